/**
 * @module Who may talk to the sidecar. Three checks, shared by HTTP and the WebSocket handshake:
 * the per-start token, the Host header (a DNS-rebinding page reaches 127.0.0.1 under a foreign
 * name), and the Origin (only the ComfyUI page(s) we serve; non-browser clients send none).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { ComfydockError } from '../errors'

export function newToken (): string {
  return randomBytes(32).toString('base64url')
}

/** `http://localhost:8188/` -> `http://localhost:8188`; refuses what is not an http(s) origin. */
export function normalizeOrigin (value: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new ComfydockError('INVALID_ARGUMENT', `"${value}" is not a URL`, { hint: 'Pass the ComfyUI address, e.g. `--origin http://127.0.0.1:8188`.' })
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ComfydockError('INVALID_ARGUMENT', `origin "${value}" must be http:// or https://`, { hint: 'Pass the ComfyUI address, e.g. `--origin http://127.0.0.1:8188`.' })
  }
  return url.origin
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]']

/** The same ComfyUI reached as localhost, 127.0.0.1 or [::1] is one origin to the user, three to the browser. */
function withLoopbackAliases (origin: string): string[] {
  const url = new URL(origin)
  if (!LOOPBACK_NAMES.includes(url.hostname)) return [origin]
  return LOOPBACK_NAMES.map(name => { url.hostname = name; return url.origin })
}

export interface RequestFacts {
  host: string | undefined
  origin: string | undefined
  /** From `Authorization: Bearer` or, where browsers cannot set headers, a `token` query parameter. */
  token: string | undefined
}

export class SecurityPolicy {
  readonly token: string
  private readonly origins: Set<string>
  private port = 0

  constructor (opts: { token?: string, origins?: string[], port?: number } = {}) {
    this.token = opts.token ?? newToken()
    this.origins = new Set((opts.origins ?? []).map(normalizeOrigin).flatMap(withLoopbackAliases))
    if (opts.port) this.port = opts.port
  }

  /** Known once the server listens (a free port is picked at start). */
  setPort (port: number): void {
    this.port = port
  }

  get allowedOrigins (): string[] {
    return [...this.origins]
  }

  /** Throws UNAUTHORIZED / FORBIDDEN_HOST / FORBIDDEN_ORIGIN; the order means a stranger learns nothing else. */
  check (facts: RequestFacts): void {
    const host = (facts.host ?? '').toLowerCase()
    if (host !== `127.0.0.1:${this.port}` && host !== `localhost:${this.port}`) {
      throw new ComfydockError('FORBIDDEN_HOST', `requests must address 127.0.0.1:${this.port} or localhost:${this.port}, not "${facts.host ?? ''}"`)
    }
    if (facts.origin !== undefined && !this.origins.has(facts.origin)) {
      throw new ComfydockError('FORBIDDEN_ORIGIN', `origin "${facts.origin}" is not allowed`, {
        hint: 'Start the sidecar with `comfydock serve --origin <ComfyUI URL>`.',
      })
    }
    if (!facts.token || !sameSecret(facts.token, this.token)) {
      throw new ComfydockError('UNAUTHORIZED', facts.token ? 'wrong sidecar token' : 'missing sidecar token', {
        hint: 'Use the token printed by `comfydock serve` (Authorization: Bearer <token>).',
      })
    }
  }
}

function sameSecret (a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

export function bearerToken (header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '')
  return m ? m[1] : undefined
}

/** HTTP status for an error code crossing the HTTP boundary. */
export function httpStatusFor (code: string): 400 | 401 | 403 | 404 | 500 {
  switch (code) {
    case 'UNAUTHORIZED': return 401
    case 'FORBIDDEN_HOST': case 'FORBIDDEN_ORIGIN': case 'PATH_OUTSIDE_WORKSPACE': return 403
    case 'BAD_REQUEST': return 400
    case 'UNKNOWN_METHOD': case 'FILE_NOT_FOUND': return 404
    default: return 500
  }
}
