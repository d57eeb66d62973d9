/**
 * @module One file into the store under its SHA-256. Small files go in one PUT; larger ones in parts
 * (read one at a time, each signed with its own SHA-256, so a part damaged on the way is refused), with
 * a failed part sent again and a failed upload aborted so the store keeps no half object.
 */
import { createHash } from 'node:crypto'
import { open } from 'node:fs/promises'
import type { Task } from '../../progress'
import type { S3Client } from './s3-client'
import type { Slots } from './slots'

/** S3 allows 10,000 parts of at least 5 MiB; parts grow for very large files. */
export const DEFAULT_PART_SIZE = 32 * 1024 * 1024
const MAX_PARTS = 10_000

export interface UploadOptions {
  slots: Slots
  task?: Task
  signal?: AbortSignal
  partSize?: number
  /** Attempts per part after the first. */
  retries?: number
}

async function readRange (file: string, start: number, length: number): Promise<Buffer> {
  const fh = await open(file, 'r')
  try {
    const buf = Buffer.allocUnsafe(length)
    let got = 0
    while (got < length) {
      const { bytesRead } = await fh.read(buf, got, length - got, start + got)
      if (bytesRead === 0) throw new Error(`${file} ended after ${start + got} bytes`)
      got += bytesRead
    }
    return buf
  } finally {
    await fh.close()
  }
}

async function withRetries<T> (retries: number, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn()
    } catch (err) {
      const code = (err as { code?: string }).code
      if (attempt >= retries || signal?.aborted || code === 'MODEL_STORE_AUTH_FAILED' || code === 'CANCELLED') throw err
      await new Promise(resolve => setTimeout(resolve, 250 * 2 ** attempt))
    }
  }
}

export async function uploadObject (client: S3Client, bucket: string, key: string, file: string, size: number, sha256: string, opts: UploadOptions): Promise<void> {
  const partSize = Math.max(opts.partSize ?? DEFAULT_PART_SIZE, Math.ceil(size / MAX_PARTS), 5 * 1024 * 1024)
  const retries = opts.retries ?? 4
  let sent = 0
  const advance = (n: number): void => { sent += n; opts.task?.advance(sent) }
  opts.task?.setTotal(size)
  if (size <= partSize) {
    await opts.slots.run(async () => {
      const body = await readRange(file, 0, size)
      await withRetries(retries, opts.signal, () => client.put(bucket, key, body, sha256, opts.signal))
      advance(size)
    })
    return
  }
  const uploadId = await withRetries(retries, opts.signal, () => client.createMultipart(bucket, key, opts.signal))
  try {
    const count = Math.ceil(size / partSize)
    const parts = await Promise.all(Array.from({ length: count }, (_, i) => opts.slots.run(async () => {
      opts.signal?.throwIfAborted()
      const start = i * partSize
      const body = await readRange(file, start, Math.min(partSize, size - start))
      const hash = createHash('sha256').update(body).digest('hex')
      const etag = await withRetries(retries, opts.signal, () => client.uploadPart(bucket, key, uploadId, i + 1, body, hash, opts.signal))
      advance(body.length)
      return { part: i + 1, etag }
    })))
    await withRetries(retries, opts.signal, () => client.completeMultipart(bucket, key, uploadId, parts, opts.signal))
  } catch (err) {
    await client.abortMultipart(bucket, key, uploadId)
    throw err
  }
}
