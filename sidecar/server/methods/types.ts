/** @module The shape of a sidecar method: a thin adapter from validated params to one core call. */
import type { MethodName, MethodParams, MethodResults, OnProgress } from '../../protocol'
import type { ContextParts } from '../context-parts'
import type { EnvPaths, Workspace } from '../../workspace'
import type { Session } from '../session'

/** What every method gets. */
export interface ServerContext {
  workspace: Workspace
  onProgress: OnProgress
  /** Aborted by `op.cancel` for this request, or when the asking client disconnects. */
  signal: AbortSignal
  /** The asking client: its runtime context (`session.context`) and running requests. */
  session: Session
  /** Parts of runtime contexts any client sent, by hash. */
  contexts: ContextParts
  /** Methods this server offers (for the hello answer). */
  methods: MethodName[]
  /** The folder exports are written to and downloaded from. */
  exportsDir: string
  /** The environment a call without `env` acts on: the one `comfydock -e X run` started, else the active one. */
  defaultEnv: string | null | undefined
  /** The ComfyUI folder the sidecar runs next to while it is no environment (null once adopted, or never). */
  unmanagedComfyui: string | null
  /** From now on, calls without `env` act on this environment (after adopting the unmanaged ComfyUI). */
  serveEnv (name: string): void
}

/** What an environment-scoped method gets. */
export interface MethodContext extends ServerContext {
  /** Resolved from `params.env` (or the active environment). */
  env: EnvPaths
}

export type MethodSpec<M extends MethodName> =
  | {
    /** Acts on one environment (`params.env` or the active one). */
    scope: 'env'
    /**
     * Runs one at a time per environment (writes, and reads that must not see a write half done).
     * Plain reads skip the queue, so the panel stays live during a long install.
     */
    exclusive?: boolean
    /** Tell every client the environment changed once this succeeds. */
    changes?: boolean
    run (ctx: MethodContext, params: MethodParams<M>): Promise<MethodResults[M]>
  }
  | {
    /** Needs no environment. */
    scope: 'none'
    run (ctx: ServerContext, params: MethodParams<M>): Promise<MethodResults[M]>
  }

export type MethodTable = { [M in MethodName]?: MethodSpec<M> }
