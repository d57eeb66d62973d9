/** Builds real PNG / WebP containers around workflow text, the way ComfyUI and Pillow write them. */
import { crc32, deflateSync } from 'node:zlib'

function pngChunk (type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(data.length, 0)
  head.write(type, 4, 'latin1')
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0)
  return Buffer.concat([head, data, crc])
}

export type PngText = { key: string, text: string, chunk?: 'tEXt' | 'iTXt' | 'iTXt-deflate' | 'zTXt' }

/** A valid 1×1 grey PNG with the given text chunks. */
export function pngWithText (texts: PngText[]): Buffer {
  const ihdr = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0])
  const chunks = texts.map(({ key, text, chunk = 'tEXt' }) => {
    const k = Buffer.from(key + '\0', 'latin1')
    if (chunk === 'tEXt') return pngChunk('tEXt', Buffer.concat([k, Buffer.from(text, 'latin1')]))
    if (chunk === 'zTXt') return pngChunk('zTXt', Buffer.concat([k, Buffer.from([0]), deflateSync(Buffer.from(text, 'latin1'))]))
    const compressed = chunk === 'iTXt-deflate'
    const body = compressed ? deflateSync(Buffer.from(text, 'utf8')) : Buffer.from(text, 'utf8')
    return pngChunk('iTXt', Buffer.concat([k, Buffer.from([compressed ? 1 : 0, 0]), Buffer.from('\0\0'), body]))
  })
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr), ...chunks, pngChunk('IDAT', deflateSync(Buffer.from([0, 128]))), pngChunk('IEND', Buffer.alloc(0)),
  ])
}

/** A little-endian TIFF block with ASCII tags, as Pillow's Exif writes (ComfyUI: 0x010F workflow, 0x0110 prompt). */
export function exifBlock (tags: Array<[number, string]>): Buffer {
  const count = tags.length
  const ifdSize = 2 + count * 12 + 4
  const header = Buffer.from('II*\0\x08\0\0\0', 'latin1')
  const values: Buffer[] = []
  const ifd = Buffer.alloc(ifdSize)
  ifd.writeUInt16LE(count, 0)
  let offset = 8 + ifdSize
  tags.forEach(([tag, text], i) => {
    const data = Buffer.from(text + '\0', 'utf8')
    const e = 2 + i * 12
    ifd.writeUInt16LE(tag, e)
    ifd.writeUInt16LE(2, e + 2)
    ifd.writeUInt32LE(data.length, e + 4)
    ifd.writeUInt32LE(offset, e + 8)
    values.push(data)
    offset += data.length
  })
  return Buffer.concat([header, ifd, ...values])
}

/** A WebP (RIFF) file with an EXIF chunk; the image chunk is a stub VP8L header, enough for a container reader. */
export function webpWithExif (tags: Array<[number, string]>): Buffer {
  const chunk = (fourcc: string, data: Buffer) => {
    const h = Buffer.alloc(8)
    h.write(fourcc, 0, 'latin1')
    h.writeUInt32LE(data.length, 4)
    return Buffer.concat([h, data, data.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)])
  }
  const body = Buffer.concat([Buffer.from('WEBP', 'latin1'), chunk('VP8L', Buffer.from([0x2f, 0, 0, 0, 0])), chunk('EXIF', exifBlock(tags))])
  const riff = Buffer.alloc(8)
  riff.write('RIFF', 0, 'latin1')
  riff.writeUInt32LE(body.length, 4)
  return Buffer.concat([riff, body])
}
