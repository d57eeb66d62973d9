/**
 * @module BLAKE3 + SHA-256 of a byte stream (a download) with SHA-256 on the shared worker thread:
 * each batch is copied into a free shared-memory slot, handed to the worker, and hashed with
 * BLAKE3 here meanwhile. Falls back to hashing both inline when the worker is busy.
 */
import type * as BlakeHash from '@napi-rs/blake-hash'
import { lazyRequire } from '../lazy-require'
import { ContentHasher, type ContentDigests } from './content-hash'
import { Sha256Worker } from './sha256-worker'

// a native addon: loaded when something is hashed, not by every command that imports this module
const blake = lazyRequire<typeof BlakeHash>('@napi-rs/blake-hash')

const SLOT = 4 * 1024 * 1024
const SLOTS = 4

export class StreamHasher {
  private readonly worker?: Sha256Worker
  private readonly inline?: ContentHasher
  private readonly b3 = new (blake().Blake3Hasher)()
  private readonly buf?: Buffer
  private readonly inWorker: Array<Promise<void> | undefined> = new Array(SLOTS)
  private slot = 0
  private fill = 0
  private bytes = 0
  private finished = false

  constructor (opts: { parallel?: boolean } = {}) {
    this.worker = opts.parallel === false ? undefined : Sha256Worker.acquire()
    if (this.worker) {
      const sab = new SharedArrayBuffer(SLOTS * SLOT)
      this.buf = Buffer.from(sab)
      this.worker.begin(sab)
    } else {
      this.inline = new ContentHasher()
    }
  }

  get size (): number { return this.bytes }

  /** Hashes `chunks` in order; resolves once they may be reused by the caller. */
  async update (chunks: Buffer[]): Promise<void> {
    if (this.inline) { for (const c of chunks) this.inline.update(c); this.bytes = this.inline.size; return }
    // Chunks are packed into the current slot; a full slot (or the end of the batch) goes to the worker.
    for (const chunk of chunks) {
      for (let off = 0; off < chunk.length;) {
        if (this.fill === 0) await this.inWorker[this.slot]
        const n = Math.min(SLOT - this.fill, chunk.length - off)
        chunk.copy(this.buf!, this.slot * SLOT + this.fill, off, off + n)
        this.fill += n
        off += n
        if (this.fill === SLOT) this.post()
      }
    }
    if (this.fill > 0) this.post()
  }

  private post (): void {
    const start = this.slot * SLOT
    this.inWorker[this.slot] = this.worker!.chunk(this.slot, start, this.fill)
    this.b3.update(this.buf!.subarray(start, start + this.fill))
    this.bytes += this.fill
    this.fill = 0
    this.slot = (this.slot + 1) % SLOTS
  }

  async digest (): Promise<ContentDigests> {
    this.finished = true
    if (this.inline) return this.inline.digest()
    await Promise.all(this.inWorker)
    const sha256 = await this.worker!.end()
    return { blake3: this.b3.digest('hex'), sha256, size: this.bytes }
  }

  /** Frees the worker when the stream is abandoned (restart, failure). */
  dispose (): void {
    if (!this.finished) this.worker?.release()
    this.finished = true
  }
}
