/**
 * @module SHA-256 on worker threads. SHA-256 is the slow half of the one-pass hash (about a third of
 * BLAKE3's speed), so for big files it runs beside BLAKE3 on the main thread, both reading the same
 * chunks from shared memory. Long-lived workers, one file each at a time, ref'd only while busy; as
 * many as files hashed at once (downloads run `model_transfers` at a time), up to POOL_MAX.
 */
import { Worker } from 'node:worker_threads'

/** Enough for the default four model transfers; a fifth file at once hashes inline. */
const POOL_MAX = 4

const SOURCE = `
const { parentPort } = require('node:worker_threads')
const { createHash } = require('node:crypto')
let hash, view
parentPort.on('message', (m) => {
  if (m.type === 'begin') { hash = createHash('sha256'); view = new Uint8Array(m.sab); return }
  if (m.type === 'chunk') { hash.update(view.subarray(m.offset, m.offset + m.length)); parentPort.postMessage({ type: 'ack', job: m.job, slot: m.slot }); return }
  if (m.type === 'end') { parentPort.postMessage({ type: 'digest', hex: hash.digest('hex') }); hash = undefined; view = undefined }
})`

interface Reply { type: 'ack' | 'digest', job?: number, slot?: number, hex?: string }

export class Sha256Worker {
  private static readonly pool: Sha256Worker[] = []
  private readonly worker: Worker
  private busy = false
  private job = 0
  private readonly waiting = new Map<number, () => void>()
  private onDigest?: (hex: string) => void
  private failure?: Error

  private constructor () {
    this.worker = new Worker(SOURCE, { eval: true })
    this.worker.unref()
    this.worker.on('message', (m: Reply) => {
      // Acks of an abandoned (cancelled) file must not release the slots of the next one.
      if (m.type === 'ack') { if (m.job === this.job) { this.waiting.get(m.slot!)?.(); this.waiting.delete(m.slot!) } } else this.onDigest?.(m.hex!)
    })
    this.worker.on('error', (err) => {
      this.failure = err
      const pool = Sha256Worker.pool
      if (pool.includes(this)) pool.splice(pool.indexOf(this), 1)
    })
  }

  /** An idle worker, or undefined when POOL_MAX files are being hashed already (the caller then hashes inline). */
  static acquire (): Sha256Worker | undefined {
    const pool = Sha256Worker.pool
    let w = pool.find(x => !x.busy && !x.failure)
    if (!w && pool.length < POOL_MAX) pool.push(w = new Sha256Worker())
    if (!w) return undefined
    w.busy = true
    w.worker.ref()
    return w
  }

  begin (sab: SharedArrayBuffer): void {
    this.job++
    this.worker.postMessage({ type: 'begin', sab })
  }

  /** Hashes bytes [offset, offset+length) of the shared buffer; resolves when the slot may be reused. */
  chunk (slot: number, offset: number, length: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.failure) { reject(this.failure); return }
      this.waiting.set(slot, resolve)
      this.worker.postMessage({ type: 'chunk', job: this.job, slot, offset, length })
    })
  }

  async end (): Promise<string> {
    try {
      return await new Promise<string>((resolve, reject) => {
        if (this.failure) { reject(this.failure); return }
        this.onDigest = resolve
        this.worker.postMessage({ type: 'end' })
      })
    } finally {
      this.release()
    }
  }

  /** Gives the worker back (also after a failed or cancelled file). */
  release (): void {
    this.onDigest = undefined
    this.waiting.clear()
    this.busy = false
    this.worker.unref()
  }
}
