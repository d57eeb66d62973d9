/**
 * @module The one HTTP client: every request (registry, node archives, models, model stores) goes
 * through here. Redirects are followed by hand, so credentials never follow a redirect to another
 * origin (Hugging Face and CivitAI both redirect downloads to a CDN). A connect timeout bounds the DNS
 * lookup and TCP/TLS handshake, an idle timeout any wait for bytes (headers or body): a server that
 * stalls fails with a clear error instead of hanging. Both are configurable through
 * COMFYDOCK_HTTP_CONNECT_TIMEOUT_MS and COMFYDOCK_HTTP_IDLE_TIMEOUT_MS.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { ComfydockError, redactSecrets } from '../errors'
import type { ErrorCode } from '../protocol'

export interface HttpRequestOptions {
  method?: string
  headers?: Record<string, string>
  body?: string | Uint8Array
  signal?: AbortSignal
  maxRedirects?: number
  /** false: return a redirect answer itself (to read its headers) instead of following it. */
  followRedirects?: boolean
  /** Code of the error thrown when the server cannot be reached. */
  errorCode?: ErrorCode
  /** Default: COMFYDOCK_HTTP_CONNECT_TIMEOUT_MS, else 15 s. */
  connectTimeoutMs?: number
  /** Longest wait for any byte once connected. Default: COMFYDOCK_HTTP_IDLE_TIMEOUT_MS, else 60 s. */
  idleTimeoutMs?: number
}

/** A connect or idle timeout; `code` is ETIMEDOUT so callers treat it like the kernel's. */
export class HttpTimeoutError extends Error {
  readonly code = 'ETIMEDOUT'
}

function envMs (name: string, fallback: number): number {
  const v = Number(process.env[name])
  return process.env[name] !== undefined && Number.isFinite(v) && v > 0 ? v : fallback
}

export function httpTimeouts (opts: Pick<HttpRequestOptions, 'connectTimeoutMs' | 'idleTimeoutMs'> = {}): { connectMs: number, idleMs: number } {
  return {
    connectMs: opts.connectTimeoutMs ?? envMs('COMFYDOCK_HTTP_CONNECT_TIMEOUT_MS', 15_000),
    idleMs: opts.idleTimeoutMs ?? envMs('COMFYDOCK_HTTP_IDLE_TIMEOUT_MS', 60_000),
  }
}

/**
 * Failures a retry cannot mend: the name does not resolve, nothing listens, no route, a bad
 * certificate. An unreachable host fails at once instead of after every backoff.
 */
const PERMANENT_NETWORK_CODES = new Set([
  'ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL', 'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL',
  'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
])

export function isRetryableNetworkError (err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code
  return !(code && PERMANENT_NETWORK_CODES.has(code))
}

export interface HttpResponse {
  res: IncomingMessage
  /** The URL that answered, after redirects. */
  url: string
  status: number
}

/** Headers that carry credentials: dropped when a redirect leaves the origin they were meant for. */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization']

export function sameOrigin (a: string, b: string): boolean {
  const x = new URL(a); const y = new URL(b)
  return x.protocol === y.protocol && x.host === y.host
}

function sendOnce (url: string, opts: HttpRequestOptions, headers: Record<string, string>): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const u = new URL(url)
    const send = u.protocol === 'https:' ? httpsRequest : u.protocol === 'http:' ? httpRequest : undefined
    if (!send) {
      reject(new ComfydockError('INVALID_ARGUMENT', `unsupported URL scheme in "${redactSecrets(url)}"`, { hint: 'Use an http:// or https:// URL.' }))
      return
    }
    const { connectMs, idleMs } = httpTimeouts(opts)
    const shown = `${u.protocol}//${u.host}`
    let res: IncomingMessage | undefined
    const req = send(u, { method: opts.method ?? 'GET', headers, signal: opts.signal }, (r) => { res = r; resolve(r) })
    // Until the socket is connected (DNS, TCP, TLS), then the idle timeout for every wait after.
    const connectTimer = setTimeout(() => req.destroy(new HttpTimeoutError(`no connection to ${shown} within ${seconds(connectMs)}`)), connectMs)
    req.on('socket', (socket) => {
      if ((socket as { connecting?: boolean }).connecting) socket.once('connect', () => clearTimeout(connectTimer))
      else clearTimeout(connectTimer)
    })
    req.setTimeout(idleMs, () => {
      const err = new HttpTimeoutError(`${shown} sent nothing for ${seconds(idleMs)}`)
      if (res && !res.complete) res.destroy(err)
      req.destroy(err)
    })
    req.on('close', () => clearTimeout(connectTimer))
    req.on('error', (err) => {
      if (opts.signal?.aborted) reject(new ComfydockError('CANCELLED', `request to ${redactSecrets(url)} was cancelled`, { cause: err }))
      else reject(err)
    })
    if (opts.body !== undefined) req.write(opts.body)
    req.end()
  })
}

/**
 * Sends the request and follows up to `maxRedirects` redirects. The caller owns the returned
 * response body (read it or call `res.resume()`). Network failures are rethrown as they are
 * (callers decide about retries); use `describeNetworkError` to turn them into a message.
 */
export async function httpRequestFollow (url: string, opts: HttpRequestOptions = {}): Promise<HttpResponse> {
  let current = url
  let headers: Record<string, string> = { 'user-agent': 'comfydock', ...lowerKeys(opts.headers ?? {}) }
  const origin = url
  for (let hop = 0; hop <= (opts.maxRedirects ?? 10); hop++) {
    const res = await sendOnce(current, opts, headers)
    const status = res.statusCode ?? 0
    const location = res.headers.location
    if (status >= 300 && status < 400 && status !== 304 && location && opts.followRedirects !== false) {
      res.resume()
      const next = new URL(location, current).toString()
      if (!sameOrigin(origin, next)) headers = Object.fromEntries(Object.entries(headers).filter(([k]) => !CREDENTIAL_HEADERS.includes(k)))
      current = next
      continue
    }
    return { res, url: current, status }
  }
  throw new ComfydockError(opts.errorCode ?? 'DOWNLOAD_FAILED', `too many redirects from ${redactSecrets(url)}`)
}

function lowerKeys (h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]))
}

export async function readBody (res: IncomingMessage, limit = 64 * 1024 * 1024): Promise<Buffer> {
  const parts: Buffer[] = []
  let n = 0
  for await (const chunk of res) {
    n += (chunk as Buffer).length
    if (n > limit) { res.destroy(); throw new Error(`response larger than ${limit} bytes`) }
    parts.push(chunk as Buffer)
  }
  return Buffer.concat(parts)
}

function seconds (ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`
}

/** "connection refused (ECONNREFUSED)" rather than a bare errno. */
export function describeNetworkError (err: unknown): string {
  if (err instanceof HttpTimeoutError) return `timed out: ${err.message} (the limits are COMFYDOCK_HTTP_CONNECT_TIMEOUT_MS and COMFYDOCK_HTTP_IDLE_TIMEOUT_MS)`
  const e = err as NodeJS.ErrnoException
  const known: Record<string, string> = {
    ECONNREFUSED: 'connection refused', ECONNRESET: 'connection reset', ENOTFOUND: 'host not found',
    ETIMEDOUT: 'timed out', EAI_AGAIN: 'DNS lookup failed', EPIPE: 'connection closed',
  }
  if (e?.code && known[e.code]) return `${known[e.code]} (${e.code})`
  return e?.message ?? String(err)
}
