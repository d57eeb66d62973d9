/**
 * @module The WebSocket link to the sidecar: typed calls with ids, progress routed to the caller,
 * "changed" events, and reconnection with backoff. Every failure surfaces as a state or a
 * rejected call carrying the sidecar's error code and hint.
 */
import {
  PROTOCOL_VERSION, serverFrame,
  type ErrorCode, type ErrorPayload, type MethodName, type MethodParams, type MethodResults, type ProgressEvent, type ServerFrame,
} from '../sidecar/protocol'

export type ConnectionState = 'unconfigured' | 'connecting' | 'open' | 'offline'

/** The sidecar's codes, plus OFFLINE for a call that never reached it. */
export type SidecarErrorCode = ErrorCode | 'OFFLINE'

export class SidecarError extends Error {
  readonly code: SidecarErrorCode
  readonly hint?: string
  constructor (payload: ErrorPayload | { code: SidecarErrorCode, message: string, hint?: string }) {
    super(payload.message)
    this.code = payload.code
    this.hint = payload.hint
  }
}

interface Pending {
  resolve: (v: unknown) => void
  reject: (e: Error) => void
  onProgress?: (e: ProgressEvent) => void
}

export interface ConnectionEvents {
  state: (state: ConnectionState, detail?: string) => void
  changed: (env: string, method: string) => void
  /** Progress of one of this connection's requests. */
  progress: (request: string, e: ProgressEvent) => void
}

/** Where the sidecar answers: its WebSocket URL and the base of its HTTP routes (downloads). */
export interface SidecarEndpoint {
  wsUrl: string
  httpBase: string
  token: string
}

export interface CallOptions {
  onProgress?: (e: ProgressEvent) => void
  /** Receives the request id as the call is sent, for `cancel(id)`. */
  onStart?: (id: string) => void
}

const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000]

export class SidecarConnection {
  state: ConnectionState = 'unconfigured'
  detail = ''
  private socket: WebSocket | null = null
  private target: SidecarEndpoint | null = null
  /** Counts opened sockets: the sidecar keeps per-connection state (runtime context) that a reconnect loses. */
  session = 0
  private readonly pending = new Map<string, Pending>()
  private attempt = 0
  private timer: ReturnType<typeof setTimeout> | null = null
  private seq = 0
  private readonly listeners: ConnectionEvents

  constructor (listeners: ConnectionEvents) {
    this.listeners = listeners
  }

  get token (): string | null { return this.target?.token ?? null }

  /** A URL for one of the sidecar's HTTP routes (`/downloads/...`), token as a query parameter. */
  httpUrl (path: string): string | null {
    if (!this.target) return null
    return `${this.target.httpBase}${path}?token=${encodeURIComponent(this.target.token)}`
  }

  /** Points the link at a sidecar (or at nothing) and connects. */
  configure (target: SidecarEndpoint | null, reason = ''): void {
    this.stop()
    this.target = target
    this.attempt = 0
    if (!target) {
      this.setState('unconfigured', reason)
      return
    }
    this.open()
  }

  call<M extends MethodName> (method: M, params: MethodParams<M>, opts: CallOptions = {}): Promise<MethodResults[M]> {
    const socket = this.socket
    if (!socket || this.state !== 'open') {
      return Promise.reject(new SidecarError({ code: 'OFFLINE', message: 'the comfydock sidecar is not connected', hint: 'Start ComfyUI with `comfydock run`, or check Settings > comfydock.' }))
    }
    const id = `c${++this.seq}`
    return new Promise<MethodResults[M]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onProgress: opts.onProgress })
      socket.send(JSON.stringify({ v: PROTOCOL_VERSION, id, method, params }))
      opts.onStart?.(id)
    })
  }

  /** Stops one running request; it then rejects with CANCELLED. Other requests go on. */
  async cancel (id: string): Promise<boolean> {
    if (!this.pending.has(id)) return false
    return (await this.call('op.cancel', { request: id })).cancelled
  }

  private setState (state: ConnectionState, detail = ''): void {
    this.state = state
    this.detail = detail
    this.listeners.state(state, detail)
  }

  private open (): void {
    const target = this.target
    if (!target) return
    this.setState('connecting', target.httpBase)
    let socket: WebSocket
    try {
      socket = new WebSocket(`${target.wsUrl}?token=${encodeURIComponent(target.token)}`)
    } catch (err) {
      this.scheduleRetry(err instanceof Error ? err.message : String(err))
      return
    }
    this.socket = socket
    socket.onopen = () => {
      this.attempt = 0
      this.session += 1
      this.setState('open', target.httpBase)
    }
    socket.onmessage = ev => this.receive(String(ev.data))
    socket.onclose = () => {
      if (this.socket !== socket) return
      this.socket = null
      this.failPending('the sidecar connection closed')
      this.scheduleRetry(`cannot reach the sidecar at ${target.httpBase}`)
    }
    socket.onerror = () => {}
  }

  private scheduleRetry (detail: string): void {
    const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)]
    this.attempt += 1
    this.setState('offline', `${detail}; retrying in ${Math.round(delay / 100) / 10}s`)
    this.timer = setTimeout(() => { this.timer = null; this.open() }, delay)
  }

  private receive (text: string): void {
    let parsed: ServerFrame
    try {
      const raw = JSON.parse(text) as { v?: unknown }
      if (raw && typeof raw.v === 'number' && raw.v !== PROTOCOL_VERSION) {
        // a different comfydock version: every call would fail, so say so once instead
        this.failPending(`the sidecar speaks protocol v${raw.v}, this panel v${PROTOCOL_VERSION}`)
        this.setState('offline', `protocol mismatch (sidecar v${raw.v}, panel v${PROTOCOL_VERSION}): the sidecar and this panel are from different comfydock versions; restart ComfyUI after updating comfydock`)
        return
      }
      const check = serverFrame.safeParse(raw)
      if (!check.success) return
      parsed = check.data as ServerFrame
    } catch {
      return
    }
    if (parsed.type === 'event') {
      if (parsed.event === 'progress') {
        this.pending.get(parsed.request)?.onProgress?.(parsed.progress)
        this.listeners.progress(parsed.request, parsed.progress)
      } else {
        this.listeners.changed(parsed.env, parsed.method)
      }
      return
    }
    if (parsed.id === null) return
    const waiter = this.pending.get(parsed.id)
    if (!waiter) return
    this.pending.delete(parsed.id)
    if (parsed.ok) waiter.resolve(parsed.result)
    else waiter.reject(new SidecarError(parsed.error))
  }

  private failPending (message: string): void {
    for (const p of this.pending.values()) p.reject(new SidecarError({ code: 'OFFLINE', message }))
    this.pending.clear()
  }

  stop (): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    const s = this.socket
    this.socket = null
    if (s) s.close()
    this.failPending('the sidecar connection was reset')
  }
}
