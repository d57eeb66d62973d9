/** @module Whether a URL belongs to a service: its configured base URL's host, or one of its public names. */

export function hostOf (url: string): string {
  try { return new URL(url).host.toLowerCase() } catch { return '' }
}

export function isServiceUrl (u: URL, baseUrl: string, known: readonly string[]): boolean {
  const host = u.host.toLowerCase()
  return host === hostOf(baseUrl) || known.some(k => host === k || host.endsWith(`.${k}`))
}

/** An http(s) URL, or undefined for anything else (another host's scheme, a hash, a file name). */
export function httpUrl (input: string): URL | undefined {
  try {
    const u = new URL(input)
    return u.protocol === 'http:' || u.protocol === 'https:' ? u : undefined
  } catch {
    return undefined
  }
}

export function trimSlash (url: string): string {
  return url.replace(/\/+$/, '')
}
