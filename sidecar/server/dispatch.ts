/**
 * @module Turns one raw request (a WebSocket frame or an HTTP body) into one response frame:
 * parse, validate against the protocol, resolve the environment, run the method under that
 * environment's queue with a signal of its own (`op.cancel` stops just this request), forward
 * progress to the asking client and announce changes to all.
 */
import { ComfydockError, redactSecrets, toErrorPayload } from '../errors'
import {
  METHOD_PARAMS, PROTOCOL_VERSION, isMethodName, requestFrame,
  type ErrorPayload, type EventFrame, type MethodName, type ProgressEvent, type ResponseFrame,
} from '../protocol'
import { Workspace } from '../workspace'
import { ContextParts } from './context-parts'
import { EnvQueue } from './env-queue'
import type { MethodSpec, MethodTable } from './methods'
import { cancellation, Session } from './session'

export interface DispatcherOptions {
  workspaceRoot: string
  /** The environment calls without `env` act on; default: the workspace's active one. */
  env?: string
  /**
   * A ComfyUI folder that is no environment: calls without `env` then act on none (not the active one,
   * which is another ComfyUI) until `env.adopt` makes it one.
   */
  unmanagedComfyui?: string
  methods: MethodTable
  exportsDir: string
  /** Sends a frame to every connected client (used for 'changed' events). */
  broadcast: (frame: EventFrame) => void
}

function failure (id: string | null, err: unknown): ResponseFrame {
  const payload: ErrorPayload = toErrorPayload(err)
  return { v: PROTOCOL_VERSION, type: 'response', id, ok: false, error: { ...payload, message: redactSecrets(payload.message) } }
}

function zodMessage (err: { issues: Array<{ path: (string | number)[], message: string }> }): string {
  return err.issues.slice(0, 5).map(i => `${i.path.join('.') || '(frame)'}: ${i.message}`).join('; ')
}

export class Dispatcher {
  private readonly queue = new EnvQueue()
  private readonly opts: DispatcherOptions
  readonly contexts = new ContextParts()

  /** What calls without `env` act on; set by `env.adopt`. */
  private served: string | undefined
  private unmanaged: string | undefined

  constructor (opts: DispatcherOptions) {
    this.opts = opts
    this.served = opts.env
    this.unmanaged = opts.env ? undefined : opts.unmanagedComfyui
  }

  get methodNames (): MethodName[] {
    return (Object.keys(this.opts.methods) as MethodName[]).sort()
  }

  /** Parses text first; anything unparseable becomes a BAD_REQUEST answer, never a throw. */
  async handleText (text: string, session: Session): Promise<ResponseFrame> {
    let raw: unknown
    try {
      raw = JSON.parse(text)
    } catch {
      return failure(null, new ComfydockError('BAD_REQUEST', 'frame is not valid JSON'))
    }
    return this.handle(raw, session)
  }

  async handle (raw: unknown, session: Session): Promise<ResponseFrame> {
    const frame = requestFrame.safeParse(raw)
    if (!frame.success) {
      const id = typeof (raw as { id?: unknown })?.id === 'string' ? (raw as { id: string }).id.slice(0, 64) : null
      return failure(id, new ComfydockError('BAD_REQUEST', `malformed request: ${zodMessage(frame.error)}`, {
        hint: `Send {"v":${PROTOCOL_VERSION},"id":"1","method":"server.hello","params":{}}.`,
      }))
    }
    const { id, method } = frame.data
    if (!isMethodName(method) || !this.opts.methods[method]) {
      return failure(id, new ComfydockError('UNKNOWN_METHOD', `unknown method "${method}"`, { hint: `Known methods: ${this.methodNames.join(', ')}.` }))
    }
    const params = METHOD_PARAMS[method].safeParse(frame.data.params ?? {})
    if (!params.success) {
      return failure(id, new ComfydockError('INVALID_ARGUMENT', `bad params for ${method}: ${zodMessage(params.error)}`))
    }
    const request = session.begin(id)
    if (!request) return failure(id, new ComfydockError('BAD_REQUEST', `request id "${id}" is already running on this connection`, { hint: 'Give every request a new id.' }))
    try {
      const result = await this.invoke(method, params.data, id, session, request.signal)
      return { v: PROTOCOL_VERSION, type: 'response', id, ok: true, result }
    } catch (err) {
      // whatever the core threw while it was being stopped, the truth is that it was cancelled
      if (request.signal.aborted && !(err instanceof ComfydockError && err.code === 'CANCELLED')) return failure(id, cancellation(request.signal, method))
      return failure(id, err)
    } finally {
      request.end()
    }
  }

  /**
   * Resolving the workspace and environment is async; done concurrently, two calls from one client could
   * reach the queue in the wrong order. Admission runs that step (and the enqueue) in arrival order; the
   * work itself still runs concurrently, so reads never wait behind a long install.
   */
  private admission: Promise<unknown> = Promise.resolve()

  private async invoke (method: MethodName, params: Record<string, unknown>, id: string, session: Session, signal: AbortSignal): Promise<unknown> {
    const admitted = this.admission.then(() => this.admit(method, params, id, session, signal))
    this.admission = admitted.then(() => {}, () => {})
    // `job` is wrapped so that awaiting admission does not wait for the work itself.
    const { job } = await admitted
    return job
  }

  private async admit (method: MethodName, params: Record<string, unknown>, id: string, session: Session, signal: AbortSignal): Promise<{ job: Promise<unknown> }> {
    const spec = this.opts.methods[method] as MethodSpec<MethodName>
    // a fresh read each time: the CLI may have switched the active env or changed settings meanwhile
    const workspace = await Workspace.open(this.opts.workspaceRoot)
    const onProgress = (progress: ProgressEvent): void => {
      session.emit({ v: PROTOCOL_VERSION, type: 'event', event: 'progress', request: id, progress })
    }
    const base = {
      workspace, onProgress, signal, session, contexts: this.contexts, methods: this.methodNames, exportsDir: this.opts.exportsDir,
      defaultEnv: this.served ?? (this.unmanaged ? null : workspace.activeEnvironment),
      unmanagedComfyui: this.unmanaged ?? null,
      serveEnv: (name: string) => { this.served = name; this.unmanaged = undefined },
    }
    if (spec.scope === 'none') {
      return { job: spec.run(base, params as never) }
    }
    const named = (params.env as string | undefined) ?? this.served
    if (!named && this.unmanaged) {
      throw new ComfydockError('ENV_NO_ACTIVE', `the ComfyUI in ${this.unmanaged} is not a comfydock environment yet`, { hint: 'Adopt it first ("Adopt this ComfyUI" in the panel).' })
    }
    const env = await workspace.resolveEnv(named)
    const work = async (): Promise<unknown> => {
      // cancelled (or the client left) while waiting in the queue: never started
      if (signal.aborted) throw cancellation(signal, method)
      const result = await spec.run({ ...base, env }, params as never)
      if (spec.changes) this.opts.broadcast({ v: PROTOCOL_VERSION, type: 'event', event: 'changed', env: env.name, method })
      return result
    }
    return { job: spec.exclusive ? this.queue.run(env.name, work) : work() }
  }
}

export { Session }
