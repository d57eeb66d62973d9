/** @module JSON over HTTP against a configurable base URL (registry, CivitAI, Hugging Face APIs). */
import { ComfydockError, redactSecrets } from '../errors'
import type { ErrorCode } from '../protocol'
import { describeNetworkError, httpRequestFollow, readBody } from './http'

export interface FetchJsonOptions {
  headers?: Record<string, string>
  signal?: AbortSignal
  method?: 'GET' | 'POST'
  /** Sent as JSON. */
  body?: unknown
  /** Return undefined on 404 instead of throwing. */
  allowNotFound?: boolean
  /** Error code for failures (default DOWNLOAD_FAILED; the registry client passes REGISTRY_UNAVAILABLE). */
  errorCode?: ErrorCode
  hint?: string
}

/** A non-2xx answer; `status` lets callers tell 401/403/404 apart. */
export class HttpStatusError extends ComfydockError {
  readonly status: number
  constructor (code: ErrorCode, status: number, message: string, hint?: string) {
    super(code, message, { hint })
    this.status = status
  }
}

export async function fetchJson<T = unknown> (url: string, opts: FetchJsonOptions & { allowNotFound: true }): Promise<T | undefined>
export async function fetchJson<T = unknown> (url: string, opts?: FetchJsonOptions): Promise<T>
export async function fetchJson<T = unknown> (url: string, opts: FetchJsonOptions = {}): Promise<T | undefined> {
  const code = opts.errorCode ?? 'DOWNLOAD_FAILED'
  const shown = redactSecrets(url)
  const headers: Record<string, string> = { accept: 'application/json', ...(opts.headers ?? {}) }
  let body: string | undefined
  if (opts.body !== undefined) { body = JSON.stringify(opts.body); headers['content-type'] = 'application/json' }
  let response
  try {
    response = await httpRequestFollow(url, { method: opts.method ?? (body ? 'POST' : 'GET'), headers, body, signal: opts.signal, errorCode: code })
  } catch (err) {
    if (err instanceof ComfydockError) throw err
    throw new ComfydockError(code, `cannot reach ${shown}: ${describeNetworkError(err)}`, { hint: opts.hint ?? 'Check the network and the configured base URL (`comfydock config --show`).', cause: err })
  }
  const { res, status } = response
  let text: string
  try {
    text = (await readBody(res)).toString('utf8')
  } catch (err) {
    throw new ComfydockError(code, `reading the answer from ${shown} failed: ${describeNetworkError(err)}`, { cause: err })
  }
  if (status === 404 && opts.allowNotFound) return undefined
  if (status < 200 || status >= 300) {
    const auth = status === 401 || status === 403
    throw new HttpStatusError(auth ? 'DOWNLOAD_AUTH_REQUIRED' : code, status, `${shown} answered HTTP ${status}${text ? `: ${redactSecrets(text.slice(0, 200))}` : ''}`,
      auth ? 'Set a token: `comfydock config hf_token <token>` or `comfydock config civitai_token <token>`.' : opts.hint)
  }
  try {
    return JSON.parse(text) as T
  } catch {
    throw new ComfydockError(code, `${shown} did not answer JSON: ${JSON.stringify(text.slice(0, 80))}`, { hint: opts.hint })
  }
}
