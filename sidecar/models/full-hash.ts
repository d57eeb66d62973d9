/**
 * @module Full BLAKE3 + SHA-256 of a file in one read pass. Two reused buffers: the next read is in
 * flight while the current chunk is hashed, so disk and CPU overlap and memory stays flat on huge files.
 */
import { open } from 'node:fs/promises'
import { ComfydockError } from '../errors'
import { ContentHasher, type ContentDigests } from '../net'
import type { OnProgress } from '../protocol'
import { startTask } from '../progress'

const CHUNK = 4 * 1024 * 1024

export interface FullHashOptions {
  onProgress?: OnProgress
  signal?: AbortSignal
  label?: string
}

export async function fullHash (file: string, opts: FullHashOptions = {}): Promise<ContentDigests> {
  const fh = await open(file, 'r')
  try {
    const size = (await fh.stat()).size
    const task = opts.onProgress ? startTask(opts.onProgress, opts.label ?? `hash ${file}`, { total: size, unit: 'bytes' }) : undefined
    const hasher = new ContentHasher()
    const bufs = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)]
    let which = 0
    let pos = 0
    let pending = fh.read(bufs[0], 0, CHUNK, 0)
    let lastReport = 0
    try {
      for (;;) {
        const { bytesRead } = await pending
        if (bytesRead === 0) break
        const current = bufs[which]
        pos += bytesRead
        which ^= 1
        pending = fh.read(bufs[which], 0, CHUNK, pos)
        hasher.update(current.subarray(0, bytesRead))
        if (opts.signal?.aborted) {
          await pending.catch(() => undefined)
          throw new ComfydockError('CANCELLED', `hashing ${file} was cancelled`)
        }
        if (task && pos - lastReport >= 64 * CHUNK) { task.advance(pos); lastReport = pos }
      }
    } catch (err) {
      task?.end('failed')
      throw err
    }
    task?.advance(pos)
    task?.end('ok')
    return hasher.digest()
  } finally {
    await fh.close()
  }
}
