/**
 * @module Full BLAKE3 + SHA-256 of a file in one read pass. Reused buffers: the next read is in
 * flight while the current chunk is hashed, so disk and CPU overlap and memory stays flat on huge
 * files. Big files hash SHA-256 on a worker beside BLAKE3 (see net/sha256-worker.ts).
 */
import type * as BlakeHash from '@napi-rs/blake-hash'
import { lazyRequire } from '../lazy-require'
import { open, type FileHandle } from 'node:fs/promises'
import { ComfydockError } from '../errors'
import { ContentHasher, Sha256Worker, type ContentDigests } from '../net'
import type { OnProgress } from '../protocol'
import { startTask, type Task } from '../progress'

// a native addon: loaded when something is hashed, not by every command that imports this module
const blake = lazyRequire<typeof BlakeHash>('@napi-rs/blake-hash')

const CHUNK = 4 * 1024 * 1024
const SLOTS = 4
/** Below this, starting work on a second thread costs more than it saves. */
const PARALLEL_FROM = 32 * 1024 * 1024

export interface FullHashOptions {
  onProgress?: OnProgress
  signal?: AbortSignal
  label?: string
  /** false: hash both on this thread (for measuring). */
  parallel?: boolean
}

export async function fullHash (file: string, opts: FullHashOptions = {}): Promise<ContentDigests> {
  const fh = await open(file, 'r')
  try {
    const size = (await fh.stat()).size
    const task = opts.onProgress ? startTask(opts.onProgress, opts.label ?? `hash ${file}`, { total: size, unit: 'bytes' }) : undefined
    const worker = opts.parallel !== false && size >= PARALLEL_FROM ? Sha256Worker.acquire() : undefined
    try {
      const d = worker ? await hashParallel(fh, file, worker, opts, task) : await hashInline(fh, file, opts, task)
      task?.end('ok')
      return d
    } catch (err) {
      worker?.release()
      task?.end('failed')
      throw err
    }
  } finally {
    await fh.close()
  }
}

function checkCancel (signal: AbortSignal | undefined, file: string): void {
  if (signal?.aborted) throw new ComfydockError('CANCELLED', `hashing ${file} was cancelled`)
}

/** Full BLAKE3 only (no SHA-256): the fast path for BLAKE3 look-ups and checks. */
export async function blake3File (file: string, opts: FullHashOptions = {}): Promise<string> {
  const fh = await open(file, 'r')
  try {
    const b3 = new (blake().Blake3Hasher)()
    await readChunks(fh, file, opts, undefined, chunk => b3.update(chunk))
    return b3.digest('hex')
  } finally {
    await fh.close()
  }
}

async function hashInline (fh: FileHandle, file: string, opts: FullHashOptions, task?: Task): Promise<ContentDigests> {
  const hasher = new ContentHasher()
  await readChunks(fh, file, opts, task, chunk => hasher.update(chunk))
  return hasher.digest()
}

/** Two reused buffers; the next read is in flight while `consume` works on the current chunk. */
async function readChunks (fh: FileHandle, file: string, opts: FullHashOptions, task: Task | undefined, consume: (chunk: Buffer) => void): Promise<number> {
  const bufs = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)]
  let which = 0
  let pos = 0
  let pending = fh.read(bufs[0], 0, CHUNK, 0)
  for (;;) {
    const { bytesRead } = await pending
    if (bytesRead === 0) break
    const current = bufs[which]
    pos += bytesRead
    which ^= 1
    pending = fh.read(bufs[which], 0, CHUNK, pos)
    consume(current.subarray(0, bytesRead))
    if (opts.signal?.aborted) { await pending.catch(() => undefined); checkCancel(opts.signal, file) }
    task?.advance(pos)
  }
  return pos
}

async function hashParallel (fh: FileHandle, file: string, worker: Sha256Worker, opts: FullHashOptions, task?: Task): Promise<ContentDigests> {
  const sab = new SharedArrayBuffer(SLOTS * CHUNK)
  const buf = Buffer.from(sab)
  worker.begin(sab)
  const b3 = new (blake().Blake3Hasher)()
  const inWorker: Array<Promise<void> | undefined> = new Array(SLOTS)
  const readInto = async (slot: number, pos: number): Promise<{ bytesRead: number }> => {
    await inWorker[slot] // the worker may still be reading this slot
    return fh.read(buf, slot * CHUNK, CHUNK, pos)
  }
  let slot = 0
  let pos = 0
  let pending = readInto(0, 0)
  for (;;) {
    const { bytesRead } = await pending
    if (bytesRead === 0) break
    const offset = slot * CHUNK
    pos += bytesRead
    inWorker[slot] = worker.chunk(slot, offset, bytesRead)
    slot = (slot + 1) % SLOTS
    pending = readInto(slot, pos)
    b3.update(buf.subarray(offset, offset + bytesRead))
    if (opts.signal?.aborted) { await pending.catch(() => undefined); checkCancel(opts.signal, file) }
    task?.advance(pos)
  }
  await Promise.all(inWorker)
  const sha256 = await worker.end()
  return { blake3: b3.digest('hex'), sha256, size: pos }
}
