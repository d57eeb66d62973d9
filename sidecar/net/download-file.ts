/**
 * @module The verified, resumable downloader. Bytes go to a part file (kept between attempts and
 * runs so a drop resumes with Range), are hashed (BLAKE3 + SHA-256) as they arrive, checked against
 * the expected hash and only then renamed to their name: a partial or corrupt file never appears there.
 * A resume sends `If-Range` with the ETag or Last-Modified the part's first bytes came with, so a file
 * that changed on the server restarts from zero; without such a validator a part is resumed only when
 * a hash will check the result. Without a hash the file lands only after a body whose length the
 * server announced (or framed) arrived complete, and the result says it is unverified.
 */
import { copyFile, mkdir, open, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { ComfydockError, redactSecrets } from '../errors'
import { startTask, type Task } from '../progress'
import type { ErrorCode, OnProgress } from '../protocol'
import type { ContentDigests } from './content-hash'
import { filenameFromContentDisposition, filenameFromUrl } from './content-disposition'
import { ensureFreeSpace } from './disk-space'
import { describeNetworkError, httpRequestFollow, isRetryableNetworkError } from './http'
import { StreamHasher } from './stream-hasher'

export interface DownloadInfo {
  /** URL that served the bytes, after redirects. */
  finalUrl: string
  /** From Content-Disposition, else the last URL segment. */
  filename?: string
  size?: number
}

/** A path, or a function choosing it once the server has answered (file name from Content-Disposition). */
export type DownloadDest = string | ((info: DownloadInfo) => string | Promise<string>)

export interface DownloadFileOptions {
  headers?: Record<string, string>
  expectedSha256?: string
  expectedBlake3?: string
  onProgress?: OnProgress
  /** Progress op id of a parent task ("download 3 models"). */
  parent?: string
  signal?: AbortSignal
  label?: string
  /** Attempts after the first (default 4); backoff doubles from `backoffMs` (default 500). */
  retries?: number
  backoffMs?: number
  /** Where bytes collect before the rename; required when `dest` is a function. Default: `.<name>.part` beside dest. */
  partFile?: string
  errorCode?: ErrorCode
  mismatchCode?: ErrorCode
}

export interface DownloadResult extends ContentDigests {
  path: string
  finalUrl: string
  filename?: string
  /** Bytes that were already there from an earlier attempt or run. */
  resumedFrom: number
  /** True when an expected hash was given and matched; false: only the length was checked. */
  verified: boolean
}

class RetryableError extends Error {}

const FLUSH_BYTES = 1024 * 1024

export async function downloadFile (url: string, dest: DownloadDest, opts: DownloadFileOptions = {}): Promise<DownloadResult> {
  const shown = redactSecrets(url)
  const code = opts.errorCode ?? 'DOWNLOAD_FAILED'
  if (typeof dest !== 'string' && !opts.partFile) throw new Error('downloadFile: partFile is required when dest is a function')
  const partFile = opts.partFile ?? join(dirname(dest as string), `.${basename(dest as string)}.part`)
  await mkdir(dirname(partFile), { recursive: true })
  const task = startTask(opts.onProgress, opts.label ?? `download ${filenameFromUrl(url) ?? shown}`, { unit: 'bytes' }, opts.parent)

  const hashKnown = Boolean(opts.expectedSha256 || opts.expectedBlake3)
  const validatorFile = `${partFile}.validator`
  /** The ETag or Last-Modified the part's bytes came with (sent as If-Range on resume). */
  let validator = await readFile(validatorFile, 'utf8').then(v => v.trim() || undefined, () => undefined)
  let hasher = new StreamHasher()
  let have = await existingSize(partFile)
  // A part of unknown origin is only continued when a hash will check the whole file.
  if (have > 0 && !validator && !hashKnown) { await rm(partFile, { force: true }); have = 0 }
  if (have > 0) have = await hashExisting(partFile, hasher)
  const resumedFrom = have
  let info: DownloadInfo | undefined
  let destPath: string | undefined
  let lastError: unknown
  const retries = opts.retries ?? 4

  const reset = async (): Promise<void> => {
    await rm(partFile, { force: true })
    await rm(validatorFile, { force: true })
    validator = undefined
    hasher.dispose()
    hasher = new StreamHasher()
    have = 0
  }

  try {
    for (let attempt = 0; ; attempt++) {
      if (attempt > retries) {
        throw new ComfydockError(code, `downloading ${shown} failed after ${attempt} attempts: ${describeNetworkError(lastError)}`, {
          hint: have > 0 ? `Run the same command again: it resumes after the ${have} bytes already here.` : 'Check the URL and the network, then run the same command again.',
          cause: lastError,
        })
      }
      if (attempt > 0) {
        task.retry(attempt, describeNetworkError(lastError))
        await sleep((opts.backoffMs ?? 500) * 2 ** (attempt - 1), opts.signal)
      }
      try {
        const done = await attemptOnce()
        if (done) break
      } catch (err) {
        if (!(err instanceof RetryableError) && (err instanceof ComfydockError || opts.signal?.aborted)) throw err
        lastError = err
      }
    }
    const digests = await hasher.digest()
    await verify(digests)
    destPath ??= await resolveDest({ finalUrl: url, size: have })
    await mkdir(dirname(destPath), { recursive: true })
    await moveInto(partFile, destPath)
    await rm(validatorFile, { force: true })
    task.end('ok')
    return { ...digests, path: destPath, finalUrl: info?.finalUrl ?? url, filename: info?.filename, resumedFrom, verified: hashKnown }
  } catch (err) {
    hasher.dispose()
    task.end('failed', err instanceof Error ? err.message : String(err))
    if (err instanceof ComfydockError && err.code === 'CANCELLED') throw err
    if (opts.signal?.aborted) throw new ComfydockError('CANCELLED', `download of ${shown} was cancelled`, { cause: err })
    throw err
  }

  async function resolveDest (i: DownloadInfo): Promise<string> {
    return typeof dest === 'string' ? dest : await dest(i)
  }

  async function verify (d: ContentDigests): Promise<void> {
    const checks: Array<[string, string | undefined, string]> = [['SHA-256', opts.expectedSha256, d.sha256], ['BLAKE3', opts.expectedBlake3, d.blake3]]
    for (const [name, want, got] of checks) {
      if (want && want.toLowerCase() !== got) {
        await rm(partFile, { force: true })
        await rm(validatorFile, { force: true })
        throw new ComfydockError(opts.mismatchCode ?? 'MODEL_HASH_MISMATCH', `${shown} does not have the expected ${name}: expected ${want.toLowerCase()}, got ${got}`, {
          hint: 'The file was discarded. The source may have changed or be corrupt; check the URL, or fetch it from another source.',
        })
      }
    }
  }

  /** One request; true when the part file holds the whole body. */
  async function attemptOnce (): Promise<boolean> {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) }
    // Without a validator or a hash, bytes kept from a dropped attempt could belong to another version.
    if (have > 0 && !validator && !hashKnown) await reset()
    if (have > 0) {
      headers.range = `bytes=${have}-`
      if (validator) headers['if-range'] = validator
    }
    let response
    try {
      response = await httpRequestFollow(url, { headers, signal: opts.signal, errorCode: code })
    } catch (err) {
      if (err instanceof ComfydockError) throw err
      if (!isRetryableNetworkError(err)) {
        throw new ComfydockError(code, `cannot reach ${shown}: ${describeNetworkError(err)}`, {
          hint: 'Check the URL and the network (a retry would not help), then run the same command again.',
          cause: err,
        })
      }
      throw new RetryableError(describeNetworkError(err))
    }
    const { res, status } = response
    if (status === 416) {
      res.resume()
      const total = /\*\/(\d+)/.exec(String(res.headers['content-range'] ?? ''))?.[1]
      if (have > 0 && total !== undefined && Number(total) === have) return true
      await reset()
      throw new RetryableError('the server refused the resume range')
    }
    if (status === 401 || status === 403) {
      res.resume()
      throw new ComfydockError('DOWNLOAD_AUTH_REQUIRED', `${shown} answered HTTP ${status}: it needs a valid token`, {
        hint: 'Set one: `comfydock config hf_token <token>` or `comfydock config civitai_token <token>`.',
      })
    }
    if (status === 429 || status >= 500) { res.resume(); throw new RetryableError(`HTTP ${status}`) }
    if (status !== 200 && status !== 206) {
      res.resume()
      throw new ComfydockError(code, `${shown} answered HTTP ${status}`, { hint: status === 404 ? 'Check the URL: the file does not exist there.' : undefined })
    }
    let total: number | undefined
    const length = res.headers['content-length'] !== undefined ? Number(res.headers['content-length']) : undefined
    const answered = validatorOf(res.headers)
    if (status === 206) {
      const m = /bytes (\d+)-(\d+)\/(\d+|\*)/.exec(String(res.headers['content-range'] ?? ''))
      if (!m || Number(m[1]) !== have) { res.resume(); await reset(); throw new RetryableError('the server resumed at the wrong offset') }
      // A server that ignores If-Range still names the version it sends.
      if (validator && answered && answered !== validator) { res.resume(); await reset(); throw new RetryableError('the file changed on the server; starting over') }
      total = m[3] === '*' ? undefined : Number(m[3])
    } else {
      if (have > 0) await reset()
      total = length
      validator = answered
      if (validator) await writeFile(validatorFile, validator + '\n')
    }
    const framed = total !== undefined || /chunked/i.test(String(res.headers['transfer-encoding'] ?? ''))
    if (!framed && !hashKnown) {
      res.destroy()
      throw new ComfydockError(code, `${shown} sent no length for its body and no hash is known, so a cut-off file could not be told from a whole one`, {
        hint: 'Pass the expected hash (`--hash`), or download from a server that sends Content-Length.',
      })
    }
    if (!info) {
      const found: DownloadInfo = { finalUrl: response.url, filename: filenameFromContentDisposition(res.headers['content-disposition'] as string | undefined) ?? filenameFromUrl(response.url), size: total }
      try {
        destPath = await resolveDest(found)
        if (total !== undefined) await ensureFreeSpace(dirname(partFile), total - have, `downloading ${found.filename ?? shown}`)
      } catch (err) {
        res.destroy() // an unread body would hold the connection (and the process) open
        throw err
      }
      info = found
    }
    if (total !== undefined) task.setTotal(total)
    await receiveBody(res, task)
    if (total !== undefined && have < total) throw new RetryableError(`connection closed after ${have} of ${total} bytes`)
    if (total !== undefined && have > total) { await reset(); throw new RetryableError(`the server sent more than the ${total} bytes it announced`) }
    return true
  }

  /**
   * Writes and hashes each batch while the next one arrives: the socket is read on while the
   * previous batch is on its way to disk and to the hashes (one batch in flight, so memory stays
   * bounded). `have` counts only bytes both written and hashed, so a resume starts right after them.
   */
  async function receiveBody (res: AsyncIterable<Buffer>, t: Task): Promise<void> {
    const fh = await open(partFile, 'a')
    let pending: Buffer[] = []
    let pendingBytes = 0
    let inFlight: Promise<void> | undefined
    const flush = async (): Promise<void> => {
      await inFlight
      if (pendingBytes === 0) return
      const batch = pending; const n = pendingBytes
      pending = []; pendingBytes = 0
      inFlight = Promise.all([fh.writev(batch), hasher.update(batch)]).then(() => {
        have += n
        t.advance(have)
      })
      inFlight.catch(() => undefined) // awaited (and thrown) by the next flush, not left unhandled meanwhile
    }
    try {
      for await (const chunk of res) {
        pending.push(chunk)
        pendingBytes += chunk.length
        if (pendingBytes >= FLUSH_BYTES) await flush()
      }
      await flush()
      await inFlight
    } catch (err) {
      // Keep what arrived intact, so the next attempt resumes after it.
      await flush().catch(() => undefined)
      await inFlight?.catch(() => undefined)
      await fh.close()
      await truncate(partFile, have).catch(() => undefined)
      if (err instanceof ComfydockError) throw err
      throw new RetryableError(describeNetworkError(err))
    }
    await fh.close()
  }
}

/** A strong ETag (weak ones may not be used in If-Range), else Last-Modified. */
function validatorOf (headers: Record<string, string | string[] | undefined>): string | undefined {
  const etag = headers.etag
  if (typeof etag === 'string' && etag && !etag.startsWith('W/')) return etag
  const modified = headers['last-modified']
  return typeof modified === 'string' && modified ? modified : undefined
}

async function existingSize (file: string): Promise<number> {
  try { return (await stat(file)).size } catch { return 0 }
}

async function hashExisting (file: string, hasher: StreamHasher): Promise<number> {
  const fh = await open(file, 'r')
  try {
    for await (const chunk of fh.createReadStream({ highWaterMark: FLUSH_BYTES })) await hasher.update([chunk as Buffer])
  } finally {
    await fh.close().catch(() => undefined)
  }
  return hasher.size
}

/** Rename; across file systems copy beside the target first, so the final step is still a rename. */
async function moveInto (from: string, to: string): Promise<void> {
  try {
    await rename(from, to)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err
    const tmp = join(dirname(to), `.${basename(to)}.moving`)
    await copyFile(from, tmp)
    await rename(tmp, to)
    await rm(from, { force: true })
  }
}

function sleep (ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) { reject(new ComfydockError('CANCELLED', 'download cancelled')); return }
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve() }, ms)
    const onAbort = (): void => { clearTimeout(t); reject(new ComfydockError('CANCELLED', 'download cancelled')) }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
