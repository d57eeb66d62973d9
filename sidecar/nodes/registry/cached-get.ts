/**
 * @module GET a JSON document through the response cache. 200 and 404 answers are cached (a 404 is a
 * real answer: "no such pack"); server errors and network failures fall back to any cached copy.
 */
import { ComfydockError, redactSecrets } from '../../errors'
import { describeNetworkError, httpRequestFollow, readBody } from '../../net/http'
import type { ResponseCache } from './response-cache'

export interface CachedGetOptions {
  cache: ResponseCache
  /** How long an answer stays fresh, in milliseconds. */
  ttlMs: number
  signal?: AbortSignal
  /** Skip the fresh-cache shortcut (still falls back to the cache when offline). */
  refresh?: boolean
  /** Longest wait for any byte (the client's idle timeout), milliseconds. */
  timeoutMs?: number
  /** Names the service in errors ("the Comfy Registry"). */
  service: string
}

export interface CachedGetResult<T> {
  status: number
  data: T | undefined
  /** 'network' = just fetched; 'cache' = fresh cached copy; 'stale' = server unreachable, old copy served. */
  origin: 'network' | 'cache' | 'stale'
  fetchedAt: number
}

/** "No such pack" is remembered briefly only: a pack published a minute later must be found. */
export const NOT_FOUND_TTL_MS = 5 * 60 * 1000

function decode<T> (status: number, body: string): T | undefined {
  if (status !== 200) return undefined
  return JSON.parse(body) as T
}

export async function cachedGetJson<T> (url: string, opts: CachedGetOptions): Promise<CachedGetResult<T>> {
  const cached = opts.cache.get(url)
  const now = Date.now()
  const ttl = cached?.status === 404 ? Math.min(opts.ttlMs, NOT_FOUND_TTL_MS) : opts.ttlMs
  if (cached && !opts.refresh && now - cached.fetchedAt < ttl) {
    return { status: cached.status, data: decode<T>(cached.status, cached.body), origin: 'cache', fetchedAt: cached.fetchedAt }
  }
  let failure: string
  try {
    const { res, status } = await httpRequestFollow(url, { headers: { accept: 'application/json' }, signal: opts.signal, idleTimeoutMs: opts.timeoutMs, errorCode: 'REGISTRY_UNAVAILABLE' })
    const body = (await readBody(res)).toString('utf8')
    if (status === 200 || status === 404) {
      if (status === 200) JSON.parse(body) // refuse to cache a non-JSON answer
      opts.cache.put(url, status, body, now)
      return { status, data: decode<T>(status, body), origin: 'network', fetchedAt: now }
    }
    failure = `HTTP ${status}`
  } catch (err) {
    if (opts.signal?.aborted) throw new ComfydockError('CANCELLED', 'cancelled', { cause: err })
    failure = err instanceof SyntaxError ? 'the answer was not JSON' : describeNetworkError(err)
  }
  if (cached) {
    return { status: cached.status, data: decode<T>(cached.status, cached.body), origin: 'stale', fetchedAt: cached.fetchedAt }
  }
  throw new ComfydockError('REGISTRY_UNAVAILABLE', `${opts.service} is unreachable (${redactSecrets(url)}: ${failure}) and nothing is cached for it`, {
    hint: 'Check the network, or the URL with `comfydock config registry_url` / `comfydock config node_mappings_url`.',
  })
}
