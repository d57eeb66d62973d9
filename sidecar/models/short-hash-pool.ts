/**
 * @module Short hashes on worker threads, for scans of many files: BLAKE3 of the samples is CPU work
 * that one thread cannot overlap with the next file's reads. Each worker reads synchronously into
 * its own 5 MiB buffer; the sampling function is the one in short-hash.ts, sent as source text.
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
parentPort.on('message', ({ id, path }) => {
  let fd
  try {
    fd = fs.openSync(path, 'r')
    const size = fs.fstatSync(fd).size
    const h = new Blake3Hasher()
    h.update(Buffer.from(String(size)))
    for (const [offset, length] of sampleRanges(size)) {
      let got = 0
      while (got < length) { const n = fs.readSync(fd, buf, got, length - got, offset + got); if (n === 0) break; got += n }
      h.update(buf.subarray(0, got))
    }
    parentPort.postMessage({ id, hash: h.digest('hex').slice(0, 16), size })
  } catch (err) {
    parentPort.postMessage({ id, code: err.code, message: err.message })
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
})`

interface Reply { id: number, hash?: string, size?: number, code?: string, message?: string }
type Pending = { resolve: (v: { hash: string, size: number }) => void, reject: (e: Error) => void }

export class ShortHashPool {
  private readonly workers: Worker[]
  private readonly pending = new Map<number, Pending>()
  private next = 0
  private turn = 0

  constructor (size = Math.max(1, Math.min(4, availableParallelism()))) {
    const blake = createRequire(import.meta.url).resolve('@napi-rs/blake-hash')
    const source = workerSource()
    this.workers = Array.from({ length: size }, () => {
      const w = new Worker(source, { eval: true, workerData: { blake } })
      w.on('message', (m: Reply) => this.settle(m))
      w.on('error', (err) => { for (const p of this.pending.values()) p.reject(err); this.pending.clear() })
      return w
    })
  }

  get size (): number { return this.workers.length }

  hash (path: string): Promise<{ hash: string, size: number }> {
    const id = this.next++
    const worker = this.workers[this.turn++ % this.workers.length]
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      worker.postMessage({ id, path })
    })
  }

  async close (): Promise<void> {
    await Promise.all(this.workers.map(w => w.terminate()))
  }

  private settle (m: Reply): void {
    const p = this.pending.get(m.id)
    if (!p) return
    this.pending.delete(m.id)
    if (m.hash !== undefined) p.resolve({ hash: m.hash, size: m.size! })
    else p.reject(Object.assign(new Error(m.message ?? 'short hash failed'), { code: m.code }))
  }
}
