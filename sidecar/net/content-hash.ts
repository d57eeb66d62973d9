/**
 * @module Full-content hashing fed chunk by chunk: BLAKE3 (native, @napi-rs/blake-hash) and SHA-256
 * (node:crypto) side by side, so a download or a file read is hashed in the same pass that moves its bytes.
 */
import type * as BlakeHash from '@napi-rs/blake-hash'
import { lazyRequire } from '../lazy-require'
import { createHash, type Hash } from 'node:crypto'

// a native addon: loaded when something is hashed, not by every command that imports this module
const blake = lazyRequire<typeof BlakeHash>('@napi-rs/blake-hash')

export interface ContentDigests {
  blake3: string
  sha256: string
  size: number
}

export class ContentHasher {
  private readonly b3 = new (blake().Blake3Hasher)()
  private readonly sha: Hash = createHash('sha256')
  private bytes = 0

  update (chunk: Uint8Array): void {
    this.b3.update(chunk)
    this.sha.update(chunk)
    this.bytes += chunk.length
  }

  get size (): number { return this.bytes }

  digest (): ContentDigests {
    return { blake3: this.b3.digest('hex'), sha256: this.sha.digest('hex'), size: this.bytes }
  }
}
