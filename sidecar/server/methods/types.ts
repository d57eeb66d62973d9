/** @module The shape of a sidecar method: a thin adapter from validated params to one core call. */
import type { MethodName, MethodParams, MethodResults, OnProgress } from '../../protocol'
import type { EnvPaths, Workspace } from '../../workspace'

export interface MethodContext {
  workspace: Workspace
  /** Resolved from `params.env` (or the active environment) for env-scoped methods. */
  env: EnvPaths
  onProgress: OnProgress
  /** Aborted when the asking client disconnects. */
  signal: AbortSignal
  /** Methods this server offers (for the hello answer). */
  methods: MethodName[]
  /** The folder exports are written to and downloaded from. */
  exportsDir: string
  /** The environment a call without `env` acts on: the one `comfydock -e X run` started, else the active one. */
  defaultEnv: string | null | undefined
}

export interface MethodSpec<M extends MethodName> {
  /** 'env' methods act on one environment (`params.env` or the active one); 'none' need none. */
  scope: 'env' | 'none'
  /**
   * Runs one at a time per environment (writes, and reads that must not see a write half done).
   * Plain reads skip the queue, so the panel stays live during a long install.
   */
  exclusive?: boolean
  /** Tell every client the environment changed once this succeeds. */
  changes?: boolean
  run (ctx: MethodContext, params: MethodParams<M>): Promise<MethodResults[M]>
}

export type MethodTable = { [M in MethodName]?: MethodSpec<M> }
