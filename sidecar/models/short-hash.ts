/**
 * @module The original tool's model short hash, bit for bit (research/original-comfydock.md §4.1):
 * BLAKE3 over the decimal size string, the first 5 MiB, and for files over 30 MiB the middle and
 * last 5 MiB; the first 16 hex digits. Existing manifests are keyed by it, so it must never change.
 */
import type * as BlakeHash from '@napi-rs/blake-hash'
import { lazyRequire } from '../lazy-require'
import { open } from 'node:fs/promises'

// a native addon: loaded when something is hashed, not by every command that imports this module
const blake = lazyRequire<typeof BlakeHash>('@napi-rs/blake-hash')

export const SAMPLE_SIZE = 5 * 1024 * 1024
export const SAMPLE_THRESHOLD = 30 * 1024 * 1024

/**
 * Byte ranges [offset, length] the short hash reads, in order. Self-contained (literal constants):
 * the scan's worker threads run this very function from its source text.
 */
export function sampleRanges (size: number): Array<[number, number]> {
  const sample = 5 * 1024 * 1024
  const ranges: Array<[number, number]> = [[0, Math.min(size, sample)]]
  if (size > 30 * 1024 * 1024) {
    ranges.push([Math.floor(size / 2) - Math.floor(sample / 2), sample])
    ranges.push([size - sample, sample])
  }
  return ranges
}

/**
 * Short hash of a file. `buffer` (at least 5 MiB) lets a scanner reuse one allocation per worker.
 * Returns the size it hashed too, read from the open handle, so hash and size always agree.
 */
export async function shortHashWithSize (file: string, buffer?: Buffer): Promise<{ hash: string, size: number }> {
  const fh = await open(file, 'r')
  try {
    const size = (await fh.stat()).size
    const buf = buffer && buffer.length >= SAMPLE_SIZE ? buffer : Buffer.allocUnsafe(Math.min(Math.max(size, 1), SAMPLE_SIZE))
    const hasher = new (blake().Blake3Hasher)()
    hasher.update(Buffer.from(String(size)))
    for (const [offset, length] of sampleRanges(size)) {
      let got = 0
      while (got < length) {
        const { bytesRead } = await fh.read(buf, got, length - got, offset + got)
        if (bytesRead === 0) break
        got += bytesRead
      }
      hasher.update(buf.subarray(0, got))
    }
    return { hash: hasher.digest('hex').slice(0, 16), size }
  } finally {
    await fh.close()
  }
}

export async function shortHash (file: string): Promise<string> {
  return (await shortHashWithSize(file)).hash
}
