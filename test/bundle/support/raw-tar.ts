/**
 * Builds real .tar.gz files entry by entry, including entries no honest tool writes
 * (`..` paths, absolute paths, links out, devices), so the hostile-bundle suite tests real archives.
 */
import { writeFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { Header } from 'tar'

export interface RawEntry {
  path: string
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'CharacterDevice' | 'BlockDevice' | 'FIFO'
  data?: string | Buffer
  linkpath?: string
  /** Declared size when it should differ from the data (a lying header). */
  size?: number
  mode?: number
}

export function rawTar (entries: RawEntry[]): Buffer {
  const blocks: Buffer[] = []
  for (const e of entries) {
    const data = e.data === undefined ? Buffer.alloc(0) : Buffer.from(e.data)
    const header = new Header({
      path: e.path,
      type: e.type ?? 'File',
      mode: e.mode ?? (e.type === 'Directory' ? 0o755 : 0o644),
      size: e.size ?? data.length,
      mtime: new Date(0),
      linkpath: e.linkpath ?? '',
      uid: 0,
      gid: 0,
      uname: '',
      gname: '',
    })
    header.encode()
    blocks.push(header.block!)
    if (data.length) {
      blocks.push(data, Buffer.alloc((512 - (data.length % 512)) % 512))
    }
  }
  blocks.push(Buffer.alloc(1024))
  return Buffer.concat(blocks)
}

export function writeRawTarGz (file: string, entries: RawEntry[]): string {
  writeFileSync(file, gzipSync(rawTar(entries)))
  return file
}
