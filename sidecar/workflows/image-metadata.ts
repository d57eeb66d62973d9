/**
 * @module Workflow text embedded in images. PNG: tEXt, iTXt (plain or deflated) and zTXt chunks, keyed by
 * keyword (`workflow` = UI JSON, `prompt` = API JSON). WebP/AVIF (and JPEG from custom save nodes): EXIF
 * ASCII tags holding `"<key>:<json>"` (ComfyUI writes workflow at 0x010F, prompt at 0x0110).
 */
import { inflateSync } from 'node:zlib'

export type ImageKind = 'png' | 'webp' | 'avif' | 'jpeg'

const PNG_SIG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

export function detectImage (buf: Buffer): ImageKind | undefined {
  if (buf.length >= 8 && buf.subarray(0, 8).equals(PNG_SIG)) return 'png'
  if (buf.length >= 12 && buf.toString('latin1', 0, 4) === 'RIFF' && buf.toString('latin1', 8, 12) === 'WEBP') return 'webp'
  if (buf.length >= 12 && buf.toString('latin1', 4, 8) === 'ftyp' && /avi[fs]/.test(buf.toString('latin1', 8, 32))) return 'avif'
  if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'jpeg'
  return undefined
}

export function readPngText (buf: Buffer): Record<string, string> {
  const out: Record<string, string> = {}
  let p = 8
  while (p + 8 <= buf.length) {
    const len = buf.readUInt32BE(p)
    const type = buf.toString('latin1', p + 4, p + 8)
    const data = buf.subarray(p + 8, Math.min(buf.length, p + 8 + len))
    p += 12 + len
    if (type === 'IEND') break
    const nul = data.indexOf(0)
    if (nul < 0) continue
    const key = data.toString('latin1', 0, nul)
    try {
      if (type === 'tEXt') out[key] = data.toString('latin1', nul + 1)
      else if (type === 'zTXt') out[key] = inflateSync(data.subarray(nul + 2)).toString('latin1')
      else if (type === 'iTXt') {
        const compressed = data[nul + 1] === 1
        let q = data.indexOf(0, nul + 3) // end of language tag
        if (q < 0) continue
        q = data.indexOf(0, q + 1) // end of translated keyword
        if (q < 0) continue
        const body = data.subarray(q + 1)
        out[key] = (compressed ? inflateSync(body) : body).toString('utf8')
      }
    } catch { /* a damaged chunk is skipped; the others may still hold the workflow */ }
  }
  return out
}

function readTiffAscii (buf: Buffer, start: number): Record<string, string> | undefined {
  const order = buf.toString('latin1', start, start + 2)
  if (order !== 'II' && order !== 'MM') return undefined
  const le = order === 'II'
  const u16 = (o: number) => le ? buf.readUInt16LE(o) : buf.readUInt16BE(o)
  const u32 = (o: number) => le ? buf.readUInt32LE(o) : buf.readUInt32BE(o)
  if (start + 8 > buf.length || u16(start + 2) !== 42) return undefined
  const ifd = start + u32(start + 4)
  if (ifd + 2 > buf.length) return undefined
  const out: Record<string, string> = {}
  const count = u16(ifd)
  for (let i = 0; i < count; i++) {
    const e = ifd + 2 + i * 12
    if (e + 12 > buf.length) break
    const type = u16(e + 2)
    if (type !== 2 && type !== 7) continue // ASCII or UNDEFINED bytes
    const n = u32(e + 4)
    const at = n <= 4 ? e + 8 : start + u32(e + 8)
    if (at + n > buf.length) continue
    const text = buf.toString('utf8', at, at + n).replace(/\0+$/, '')
    const colon = text.indexOf(':')
    // ComfyUI's convention: "<key>:<json>"; custom nodes also write "Workflow"/"Prompt".
    if (colon > 0 && /^[A-Za-z_]\w*$/.test(text.slice(0, colon))) out[text.slice(0, colon).toLowerCase()] = text.slice(colon + 1)
  }
  return out
}

/** EXIF-embedded text: looks for every TIFF header in the file (the container only decides where it sits). */
export function readExifText (buf: Buffer): Record<string, string> {
  const out: Record<string, string> = {}
  for (const marker of [Buffer.from('II*\0', 'latin1'), Buffer.from('MM\0*', 'latin1')]) {
    let at = buf.indexOf(marker)
    while (at >= 0) {
      const found = readTiffAscii(buf, at)
      if (found) for (const [k, v] of Object.entries(found)) out[k] ??= v
      at = buf.indexOf(marker, at + 4)
    }
  }
  return out
}

export function readImageText (buf: Buffer, kind: ImageKind): Record<string, string> {
  return kind === 'png' ? readPngText(buf) : readExifText(buf)
}
