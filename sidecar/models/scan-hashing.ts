/**
 * @module The hashing half of a scan. Files needing a short hash are queued as the walk finds them,
 * so hashing starts before the walk ends; on worker threads they go out in batches (one message each
 * way per batch). Lanes stop together: the first failure or a cancel stops every lane from taking
 * more, and is thrown once all have stopped, so no hashing outlives the scan.
 */
import { join } from 'node:path'
import { ComfydockError } from '../errors'
import { SAMPLE_SIZE, sampleRanges, shortHashWithSize } from './short-hash'
import { ShortHashPool } from './short-hash-pool'
import type { FoundFile } from './walk-models'

export interface Hashed { f: FoundFile, hash: string, size: number }

/** Files go to a worker in batches of about this many sample bytes, or at most BATCH_FILES files. */
const BATCH_BYTES = 16 * 1024 * 1024
const BATCH_FILES = 64

/** Bytes a short hash reads from a file of `size`. */
function sampleBytes (size: number): number {
  return sampleRanges(size).reduce((n, [, length]) => n + Math.min(length, size), 0)
}

/** Files waiting to be hashed, filled by the walk while lanes take from it. */
export class FileQueue {
  private readonly items: FoundFile[] = []
  private head = 0
  private queuedBytes = 0
  private closed = false
  private waiters: Array<() => void> = []
  /** Files ever pushed. */
  count = 0

  push (f: FoundFile): void {
    this.items.push(f)
    this.count++
    this.queuedBytes += sampleBytes(f.size)
    if (this.queuedBytes >= BATCH_BYTES || this.items.length - this.head >= BATCH_FILES) this.wake()
  }

  /** No more files will come (the walk ended). */
  close (): void {
    this.closed = true
    this.wake()
  }

  /** Drops what is still queued and closes: lanes finish their current step and stop. */
  abandon (): void {
    this.head = this.items.length
    this.queuedBytes = 0
    this.close()
  }

  /** Up to a batch of files; waits for a full batch while the walk goes on; empty when all are taken. */
  async take (maxFiles: number): Promise<Array<{ f: FoundFile, bytes: number }>> {
    while (!this.closed && this.queuedBytes < BATCH_BYTES && this.items.length - this.head < maxFiles) {
      await new Promise<void>(resolve => this.waiters.push(resolve))
    }
    const out: Array<{ f: FoundFile, bytes: number }> = []
    let bytes = 0
    while (this.head < this.items.length && out.length < maxFiles && bytes < BATCH_BYTES) {
      const f = this.items[this.head++]
      const b = sampleBytes(f.size)
      out.push({ f, bytes: b })
      bytes += b
      this.queuedBytes -= b
    }
    return out
  }

  private wake (): void {
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
  }
}

/** Worker pool made on first need and shared by every directory of one sync. */
export class Pools {
  private pool?: ShortHashPool
  get (): ShortHashPool { return (this.pool ??= new ShortHashPool()) }
  async close (): Promise<void> { await this.pool?.close() }
}

interface HashOptions { signal?: AbortSignal, concurrency?: number }

function checkCancel (signal?: AbortSignal): void {
  if (signal?.aborted) throw new ComfydockError('CANCELLED', 'model scan cancelled')
}

/** A file that vanished between listing and hashing is skipped: the next sync sees it gone. */
function vanished (err: { code?: string }): boolean {
  return err.code === 'ENOENT'
}

/** Two batches per worker in flight, so a worker never waits for the main thread between batches. */
export async function hashOnWorkers (dir: string, queue: FileQueue, pool: ShortHashPool, opts: HashOptions, onHashed: (h: Hashed) => void): Promise<void> {
  await runLanes(Math.max(opts.concurrency ?? 0, pool.size * 2), async () => {
    checkCancel(opts.signal)
    const part = await queue.take(BATCH_FILES)
    if (part.length === 0) return false
    const weight = part.reduce((n, p) => n + p.bytes, 0)
    const results = await pool.hashBatch(part.map(p => join(dir, p.f.relPath)), weight)
    results.forEach((r, i) => {
      if (r.hash !== undefined) onHashed({ f: part[i].f, hash: r.hash, size: r.size! })
      else if (!vanished(r)) throw Object.assign(new Error(r.message ?? 'short hash failed'), { code: r.code })
    })
    return true
  })
}

/** On this thread, a few files at once (async reads): for scans with few files to hash. */
export async function hashHere (dir: string, queue: FileQueue, opts: HashOptions, onHashed: (h: Hashed) => void): Promise<void> {
  const buffers: Buffer[] = []
  await runLanes(opts.concurrency ?? 4, async () => {
    checkCancel(opts.signal)
    const [next] = await queue.take(1)
    if (!next) return false
    const buffer = buffers.pop() ?? Buffer.allocUnsafe(SAMPLE_SIZE)
    try {
      onHashed({ f: next.f, ...await shortHashWithSize(join(dir, next.f.relPath), buffer) })
    } catch (err) {
      if (!vanished(err as NodeJS.ErrnoException)) throw err
    } finally {
      buffers.push(buffer)
    }
    return true
  })
}

/** Runs `count` lanes, each repeating `step` until it returns false or any lane fails. */
async function runLanes (count: number, step: () => Promise<boolean>): Promise<void> {
  let failure: { err: unknown } | undefined
  const lane = async (): Promise<void> => {
    try {
      while (!failure && await step()) { /* next step */ }
    } catch (err) {
      failure ??= { err }
    }
  }
  await Promise.all(Array.from({ length: count }, lane))
  if (failure) throw failure.err
}
