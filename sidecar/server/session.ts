/**
 * @module One client's state on the server: where its frames go, the signal that ends with its
 * connection, the requests it has running (so `op.cancel` can stop one without touching the others)
 * and the runtime context (object_info, model lists) its page sent once with `session.context`.
 */
import { ComfydockError } from '../errors'
import type { RuntimeContext, ServerFrame } from '../protocol'

export class Session {
  /** Requests still running, by id. */
  private readonly running = new Map<string, AbortController>()
  /** What the client's ComfyUI has; analyses of this session read it. */
  context: RuntimeContext | undefined

  constructor (
    /** Sends a frame to this client only (progress of its requests). */
    readonly emit: (frame: ServerFrame) => void,
    /** Aborted when the client goes away: every request it has running stops. */
    readonly signal: AbortSignal,
  ) {}

  /** A signal for one request: aborted by `cancel(id)` or when the client goes. Null when the id is already in use. */
  begin (id: string): { signal: AbortSignal, end: () => void } | null {
    if (this.running.has(id)) return null
    const own = new AbortController()
    this.running.set(id, own)
    return {
      // its reason says who stopped it: the user (op.cancel) or a closed connection
      signal: AbortSignal.any([this.signal, own.signal]),
      end: () => { if (this.running.get(id) === own) this.running.delete(id) },
    }
  }

  /** Aborts one running request of this client; false when it is not (or no longer) running. */
  cancel (id: string): boolean {
    const ctl = this.running.get(id)
    if (!ctl) return false
    ctl.abort(new ComfydockError('CANCELLED', 'cancelled by the user'))
    return true
  }

  get runningIds (): string[] {
    return [...this.running.keys()]
  }
}

/** The error to answer with for a request whose signal was aborted: the abort's own reason if it is ours. */
export function cancellation (signal: AbortSignal, method: string): ComfydockError {
  const reason = signal.reason
  if (reason instanceof ComfydockError && reason.code === 'CANCELLED') return new ComfydockError('CANCELLED', `${method} ${reason.message}`)
  return new ComfydockError('CANCELLED', `${method} cancelled: the client disconnected`)
}
