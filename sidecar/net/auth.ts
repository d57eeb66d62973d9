/**
 * @module Which credentials go to which host. A token is attached only when the request URL has
 * exactly the origin of the service it belongs to; redirects elsewhere drop it (see http.ts).
 */
import { sameOrigin } from './http'

export interface ScopedToken {
  /** Base URL of the service the token belongs to, e.g. https://huggingface.co */
  baseUrl: string
  token?: string
}

export function authHeadersFor (url: string, tokens: ScopedToken[]): Record<string, string> {
  for (const t of tokens) {
    if (t.token && safeSameOrigin(url, t.baseUrl)) return { authorization: `Bearer ${t.token}` }
  }
  return {}
}

function safeSameOrigin (a: string, b: string): boolean {
  try { return sameOrigin(a, b) } catch { return false }
}
