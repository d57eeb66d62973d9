/**
 * @module Short hashes on worker threads, for scans of many files: BLAKE3 of the samples is CPU work
 * that one thread cannot overlap with the next file's reads. Files go to workers in batches (one
 * message each way per batch, not per file) so a scan of small files is not bound by messaging.
 * Each worker reads synchronously into its own 5 MiB buffer; the sampling function is the one in
 * short-hash.ts, sent as source text.
 */
import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { sampleRanges } from './short-hash'

const workerSource = (): string => `
const { parentPort, workerData } = require('node:worker_threads')
const fs = require('node:fs')
const { Blake3Hasher } = require(workerData.blake)
const sampleRanges = ${sampleRanges.toString()}
const buf = Buffer.allocUnsafe(5 * 1024 * 1024)
function hashOne (path) {
  let fd
  try {
    fd = fs.openSync(path, 'r')
    const size = fs.fstatSync(fd).size
    const h = new Blake3Hasher()
    h.update(String(size))
    for (const [offset, length] of sampleRanges(size)) {
      let got = 0
      while (got < length) { const n = fs.readSync(fd, buf, got, length - got, offset + got); if (n === 0) break; got += n }
      h.update(buf.subarray(0, got))
    }
    return { hash: h.digest('hex').slice(0, 16), size }
  } catch (err) {
    return { code: err.code, message: err.message }
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
}
parentPort.on('message', ({ id, paths }) => {
  parentPort.postMessage({ id, results: paths.map(hashOne) })
})`

/** One file's outcome: its short hash and size, or the error code and message of why it failed. */
export interface PoolResult { hash?: string, size?: number, code?: string, message?: string }
interface Reply { id: number, results: PoolResult[] }
interface Pending { resolve: (v: PoolResult[]) => void, reject: (e: Error) => void, worker: number, weight: number }

/** Workers a pool starts by default: one per core, at most 4 (reads, not hashing, bound beyond that). */
export function defaultPoolSize (): number {
  return Math.max(1, Math.min(4, availableParallelism()))
}

export class ShortHashPool {
  private readonly workers: Worker[]
  /** Bytes (estimated) queued on each worker: the next batch goes to the least loaded one. */
  private readonly load: number[]
  private readonly pending = new Map<number, Pending>()
  private next = 0
  private failure?: Error

  constructor (size = defaultPoolSize()) {
    const blake = createRequire(import.meta.url).resolve('@napi-rs/blake-hash')
    const source = workerSource()
    this.load = new Array<number>(size).fill(0)
    this.workers = Array.from({ length: size }, (_, i) => {
      const w = new Worker(source, { eval: true, workerData: { blake } })
      w.on('message', (m: Reply) => this.settle(m))
      w.on('error', (err) => this.fail(i, err))
      return w
    })
  }

  get size (): number { return this.workers.length }

  /** One file; rejects with an Error carrying the fs error `code` (ENOENT for a vanished file). */
  async hash (path: string): Promise<{ hash: string, size: number }> {
    const [r] = await this.hashBatch([path])
    if (r.hash === undefined) throw Object.assign(new Error(r.message ?? 'short hash failed'), { code: r.code })
    return { hash: r.hash, size: r.size! }
  }

  /**
   * Several files in one round trip; results in the order of `paths`. Per-file failures are results,
   * not rejections, so one vanished file does not lose the rest of the batch. `weight` (bytes to read)
   * balances the workers.
   */
  hashBatch (paths: string[], weight = paths.length): Promise<PoolResult[]> {
    const id = this.next++
    let worker = 0
    for (let i = 1; i < this.load.length; i++) if (this.load[i] < this.load[worker]) worker = i
    if (this.load[worker] === Infinity) return Promise.reject(this.failure ?? new Error('short hash workers stopped'))
    this.load[worker] += weight
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker, weight })
      this.workers[worker].postMessage({ id, paths })
    })
  }

  async close (): Promise<void> {
    await Promise.all(this.workers.map(w => w.terminate()))
  }

  private settle (m: Reply): void {
    const p = this.pending.get(m.id)
    if (!p) return
    this.pending.delete(m.id)
    this.load[p.worker] -= p.weight
    p.resolve(m.results)
  }

  private fail (worker: number, err: Error): void {
    // A crashed worker takes no more batches; the others carry on.
    this.failure = err
    this.load[worker] = Infinity
    for (const [id, p] of this.pending) {
      if (p.worker !== worker) continue
      this.pending.delete(id)
      p.reject(err)
    }
  }
}
