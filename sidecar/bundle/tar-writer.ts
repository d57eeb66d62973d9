/**
 * @module Writes a reproducible .tar.gz: entries sorted by path, one fixed mtime, owner 0:0 with
 * empty names, modes normalised to 0644/0755, and node's gzip header (which carries mtime 0).
 * Headers come from tar@7 (ustar plus PAX for long names); file data is streamed from disk.
 */
import { createReadStream, createWriteStream } from 'node:fs'
import { readFile, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { constants as zc, createGzip } from 'node:zlib'
import { Header, Pax } from 'tar'
import type { Task } from '../progress'

export interface TarSource {
  /** Path inside the archive, forward slashes. */
  path: string
  /** A file on disk to stream, or in-memory data. */
  file?: string
  data?: Buffer
  size: number
  executable?: boolean
}

export interface TarWriteOptions {
  mtime: Date
  /** Advanced with the bytes written so far. */
  task?: Task
  /** Checked between files; the partial archive is removed. */
  signal?: AbortSignal
}

const BLOCK = 512
const ZEROS = Buffer.alloc(BLOCK * 2)
/** Files up to this size are read in one call (most dev node sources and workflows). */
const SMALL_FILE = 4 * 1024 * 1024

function headerFor (src: TarSource, mtime: Date): Buffer[] {
  const data = {
    path: src.path,
    mode: src.executable ? 0o755 : 0o644,
    uid: 0,
    gid: 0,
    uname: '',
    gname: '',
    size: src.size,
    mtime,
    type: 'File' as const,
  }
  const header = new Header(data)
  const out: Buffer[] = []
  if (header.encode()) out.push(new Pax({ path: src.path, mtime, size: src.size }).encode())
  out.push(header.block!)
  return out
}

/** Writes `sources` (sorted here) into `dest` atomically; returns the archive size. */
export async function writeTarGz (dest: string, sources: TarSource[], opts: TarWriteOptions): Promise<number> {
  const sorted = [...sources].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  const tmp = join(dirname(dest), `.${basename(dest)}.${randomBytes(6).toString('hex')}.tmp`)
  const gzip = createGzip({ level: zc.Z_DEFAULT_COMPRESSION, chunkSize: 64 * 1024 })
  const out = createWriteStream(tmp)
  gzip.pipe(out)
  const closed = once(out, 'close')
  let written = 0
  const push = async (buf: Buffer): Promise<void> => {
    written += buf.length
    if (!gzip.write(buf)) await once(gzip, 'drain')
  }
  try {
    for (const src of sorted) {
      opts.signal?.throwIfAborted()
      for (const h of headerFor(src, opts.mtime)) await push(h)
      if (src.data) {
        await push(src.data)
      } else if (src.file && src.size <= SMALL_FILE) {
        const data = await readFile(src.file)
        if (data.length < src.size) throw new Error(`${src.file} shrank while being archived`)
        await push(data.length > src.size ? data.subarray(0, src.size) : data)
      } else if (src.file) {
        let seen = 0
        for await (const chunk of createReadStream(src.file, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
          // a file that grew since it was listed would corrupt the archive: keep the listed size
          const part = seen + chunk.length > src.size ? chunk.subarray(0, src.size - seen) : chunk
          seen += part.length
          await push(part)
          // a large file is where a cancel waits longest: checked, and progress told, per chunk
          opts.signal?.throwIfAborted()
          opts.task?.advance(written)
          if (seen >= src.size) break
        }
        if (seen < src.size) throw new Error(`${src.file} shrank while being archived`)
      }
      const pad = (BLOCK - (src.size % BLOCK)) % BLOCK
      if (pad) await push(ZEROS.subarray(0, pad))
      opts.task?.advance(written)
    }
    await push(ZEROS)
    gzip.end()
    await closed
    await rename(tmp, dest)
  } catch (err) {
    gzip.destroy()
    out.destroy()
    // The file may still be opening (a cancel at once): removed before that, it would appear after.
    await closed.catch(() => undefined)
    await rm(tmp, { force: true })
    throw err
  }
  return out.bytesWritten
}
