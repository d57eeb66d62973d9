/**
 * @module The sidecar wire protocol, shared by the server and the browser extension.
 * Versioned frames: the client sends requests with ids, the server answers each with one
 * response and pushes events (progress of a request, "environment changed"). Every frame is
 * validated with zod at the boundary. No Node APIs here: the extension bundles this file.
 */
import { z } from 'zod'
import { ERROR_CODES, type ErrorPayload } from './errors'
import type { ProgressEvent } from './progress'

/** 2: `session.context` carries object_info once per page (no longer a param of every analysis); `op.cancel`. */
export const PROTOCOL_VERSION = 2

const envParam = z.string().min(1).max(64).optional()
/** A workflow as the browser holds it: its name (no `workflows/` prefix, no `.json`) and its graph JSON. */
const workflowIn = z.object({
  name: z.string().min(1).max(200),
  json: z.record(z.unknown()),
  /**
   * The frontend says the tab equals its file in ComfyUI's user folder (saved, no edits since). Its
   * own serialization differs from the file (it fills in what older frontends left out), so "differs
   * from the last commit" is then decided from the file, as `workflow list` does.
   */
  saved: z.boolean().optional(),
})

/** A custom node folder ComfyUI failed to import, and why (the exception from its log). */
const loadFailure = z.object({ folder: z.string().min(1).max(255), reason: z.string().max(4000) }).strict()

/** A large part of the runtime context: by hash alone when the sidecar already holds it, else with its value. */
function contextPart<T extends z.ZodTypeAny> (value: T) {
  return z.object({
    /** Chosen by the client over the value: the same hash means the same value. */
    hash: z.string().min(1).max(128),
    value: value.optional(),
  }).strict()
}

/** What the page's ComfyUI has. Each part is sent once per page, and again only when its hash changes. */
const sessionContextParams = z.object({
  /** GET /api/object_info, so nodes of any installed pack are recognised. */
  objectInfo: contextPart(z.record(z.unknown())).optional(),
  /** folder -> file names, from GET /api/models/<folder>. */
  modelLists: contextPart(z.record(z.array(z.string()))).optional(),
  /** From the bridge: packs that are installed but did not load. Small, so always by value. */
  loadFailures: z.array(loadFailure).max(1000).optional(),
}).strict()

export type ContextPartName = 'objectInfo' | 'modelLists'

/** The runtime context as the sidecar holds it for one connection. */
export interface RuntimeContext {
  objectInfo?: Record<string, unknown>
  modelLists?: Record<string, string[]>
  loadFailures?: LoadFailure[]
}

const remoteName = z.string().min(1).max(100).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/)
/** An answer to a pull conflict: this environment's side, the remote's, or (workflows) both under two names. */
const pullChoice = z.enum(['mine', 'theirs', 'both'])

/** Parameter schemas, one per method. The method list is the keys of this object. */
export const METHOD_PARAMS = {
  'server.hello': z.object({}).strict(),
  /**
   * Sets this connection's runtime context. A part given by hash alone is taken from what the sidecar
   * already holds (another tab, an earlier connection); if it holds nothing under that hash it answers
   * with the part in `missing` and changes nothing: send again with the value.
   */
  'session.context': sessionContextParams,
  /** Stops one running request of this connection; it then answers CANCELLED. */
  'op.cancel': z.object({ request: z.string().min(1).max(64) }).strict(),
  /** `full` adds every status section (Python, nodes, models...), which is slower. */
  'env.status': z.object({ env: envParam, full: z.boolean().optional() }).strict(),
  /** `workflows`: each entry then says which of these workflows it holds (Restore is offered on those only). */
  'env.log': z.object({ env: envParam, limit: z.number().int().positive().max(1000).optional(), workflows: z.array(z.string().min(1).max(200)).max(200).optional() }).strict(),
  'workflows.list': z.object({ env: envParam }).strict(),
  /** Checked against the connection's runtime context (`session.context`). */
  'workflows.analyze': z.object({
    env: envParam,
    workflows: z.array(workflowIn).max(200),
  }).strict(),
  /** As for workflows.analyze: the committed analysis matches what this connection's ComfyUI has. */
  'workflows.commit': z.object({
    env: envParam,
    message: z.string().min(1).max(10_000),
    workflows: z.array(workflowIn).min(1).max(200),
    allowIssues: z.boolean().optional(),
  }).strict(),
  /** `overwrite` discards uncommitted changes of ComfyUI's saved copy; without it they refuse with UNCOMMITTED_CHANGES. */
  'workflows.restore': z.object({ env: envParam, name: z.string().min(1).max(200), ref: z.string().min(1).max(200).optional(), overwrite: z.boolean().optional() }).strict(),
  'models.download': z.object({
    env: envParam,
    url: z.string().url(),
    folder: z.string().min(1).max(100).optional(),
    relPath: z.string().min(1).max(500).optional(),
    expectedHash: z.string().min(4).max(128).optional(),
  }).strict(),
  'nodes.install': z.object({ env: envParam, specs: z.array(z.string().min(1).max(500)).min(1).max(50) }).strict(),
  /**
   * Commits the environment as it is on disk (what `comfydock commit` does): .cec and ComfyUI's saved
   * workflows. The panel's "Commit and export" runs it before an export that needs a commit.
   */
  'env.commit': z.object({ env: envParam, message: z.string().min(1).max(10_000), allowIssues: z.boolean().optional() }).strict(),
  /**
   * Makes the environment match its manifest, as `comfydock repair` does. `only`: `files` (packs,
   * models, workflows) or `python` (the venv against the lock); both when absent.
   */
  'env.repair': z.object({ env: envParam, only: z.enum(['files', 'python']).optional() }).strict(),
  /**
   * Makes an environment from the unmanaged ComfyUI this sidecar was started next to (`serve` in or with
   * `--comfyui` a ComfyUI folder that is no environment), as `comfydock adopt` does; the folder is only
   * read. The sidecar then serves the new environment.
   */
  'env.adopt': z.object({ name: z.string().min(1).max(64).optional() }).strict(),
  /** The workspace's environments (the panel offers them when none is active). */
  'env.list': z.object({}).strict(),
  /** Makes `name` the workspace's active environment, as `comfydock use` does. */
  'env.use': z.object({ name: z.string().min(1).max(64) }).strict(),
  /** `allowIssues` exports even with unresolved workflows (EXPORT_BLOCKED otherwise). */
  'env.export': z.object({ env: envParam, allowIssues: z.boolean().optional() }).strict(),
  /**
   * What `comfydock pull --preview` shows: fetches `remote` (default origin), then lists which packs,
   * Python packages, models and workflows change and what conflicts, with both sides. Changes nothing.
   */
  'env.pullPreview': z.object({ env: envParam, remote: remoteName.optional() }).strict(),
  /**
   * Pulls and brings the environment to the result (as repair does). Conflicts are answered by `choices`
   * (ids from env.pullPreview) or `prefer`; one left open answers MERGE_CONFLICT and changes nothing.
   * Uncommitted work answers UNCOMMITTED_CHANGES unless `commitFirst` (then it is committed first).
   */
  'env.pull': z.object({
    env: envParam,
    remote: remoteName.optional(),
    choices: z.record(z.string().min(1).max(300), pullChoice).optional(),
    prefer: pullChoice.optional(),
    commitFirst: z.boolean().optional(),
    /** Which missing models to download afterwards (default all). */
    models: z.enum(['all', 'required', 'skip']).optional(),
  }).strict(),
} as const

export type MethodName = keyof typeof METHOD_PARAMS
export const METHOD_NAMES = Object.keys(METHOD_PARAMS) as MethodName[]
export type MethodParams<M extends MethodName> = z.infer<typeof METHOD_PARAMS[M]>
export type WorkflowInput = z.infer<typeof workflowIn>
export type LoadFailure = z.infer<typeof loadFailure>

// ---- results (what the server promises to send back) ----

export interface HelloResult {
  protocol: number
  version: string
  workspace: string
  /** Methods this sidecar offers; the panel hides actions whose method is absent. */
  methods: MethodName[]
  activeEnv: string | null
  /** The ComfyUI folder this sidecar runs next to when it is no environment yet: the panel offers to adopt it. */
  unmanagedComfyui?: string | null
}

export interface SessionContextResult {
  /** Parts given by a hash the sidecar does not hold: nothing was set; send them with their value. */
  missing: ContextPartName[]
}

export interface CancelResult {
  /** False when no request of this connection with that id is running (it may have just ended). */
  cancelled: boolean
}

export interface EnvStatusResult {
  env: string
  comfyuiVersion: string | null
  /** Files changed in .cec since the last commit (the sidebar badge counts these plus unsaved tabs). */
  changes: string[]
  clean: boolean
  /** Names of the environment's git remotes (the panel offers Pull when there is one). */
  remotes?: string[]
  /** Anything else the environment status reports, passed through for display. */
  details?: Record<string, unknown>
}

export interface LogEntryResult {
  commit: string
  short: string
  date: string
  subject: string
  /** When asked with `workflows`: those of them this commit holds. */
  workflows?: string[]
}

export interface TrackedWorkflowResult {
  name: string
  /** Relative to the environment's ComfyUI disk copy: new, modified, deleted, synced. */
  state: string
}

export interface MissingModel {
  nodeId: string | number
  nodeType: string
  input?: string
  value: string
  folder?: string
  criticality?: string
  /** A download source: declared in the workflow or recorded in the manifest. */
  url?: string
  /** Expected hash (short or full) when the manifest knows it; the download is verified against it. */
  hash?: string
}

export interface MissingNode {
  type: string
  /** Install spec for `nodes.install`: the workflow's own `cnr_id`, else the best-ranked suggestion. */
  pack?: string
  /** Other packs that also provide the type, ranked (the panel names them: nothing is picked silently). */
  alternatives?: string[]
  /**
   * The pack is installed but this ComfyUI did not load the type: why (the import error from ComfyUI's log,
   * or its absence from /object_info). The panel shows "failed to load", never Install.
   */
  loadError?: string
}

export interface WorkflowAnalysisResult {
  name: string
  tracked: boolean
  /** The browser copy differs from the last committed snapshot (always true when not tracked). */
  differsFromCommit: boolean
  missingModels: MissingModel[]
  missingNodes: MissingNode[]
  error?: ErrorPayload
}

export interface CommitResult {
  commit: string | null
  short: string | null
  workflows: string[]
}

export interface RestoreResult {
  name: string
  ref: string
  json: Record<string, unknown>
}

export interface DownloadResult {
  hash: string
  path: string
}

export interface InstallResult {
  installed: string[]
  failed: Array<{ spec: string, error: ErrorPayload }>
}

export interface RepairSummary {
  ok: boolean
  installed: string[]
  downloaded: string[]
  restored: string[]
  pythonSynced: boolean
  /** What could not be repaired, and why. */
  failed: Array<{ item: string, error: ErrorPayload }>
}

export interface EnvSummaryResult {
  name: string
  active: boolean
  /** False for a half-made environment (its create or import did not finish): it cannot be used. */
  complete: boolean
}

export interface AdoptSummary {
  /** The new environment, which the sidecar now serves. */
  name: string
  ok: boolean
  installed: string[]
  development: string[]
  workflows: string[]
  /** What could not be carried over, and why. */
  notAdopted: Array<{ item: string, reason: string }>
  failed: Array<{ item: string, error: ErrorPayload }>
}

export interface ExportResult {
  file: string
  size: number
  /** Path on the sidecar (token still required, e.g. as `?token=`). */
  downloadPath: string
}

export interface PullChange { name: string, from?: string, to?: string }

/** What a pull changes in the environment, from its last commit to the result. */
export interface PullChangeSet {
  packs: { added: PullChange[], removed: PullChange[], changed: PullChange[] }
  python: { added: string[], removed: string[] }
  models: { added: PullChange[], removed: PullChange[] }
  workflows: { added: string[], removed: string[], changed: string[] }
  comfyui?: PullChange
  python_version?: PullChange
  files: string[]
  empty: boolean
}

export interface PullConflict {
  /** Answer with this id in `env.pull`'s `choices`. */
  id: string
  kind: string
  label: string
  mine: { summary: string, value: unknown }
  theirs: { summary: string, value: unknown }
  choices: Array<'mine' | 'theirs' | 'both'>
}

export interface PullPreviewResult {
  environment: string
  remote: string
  url: string
  branch: string
  kind: 'up-to-date' | 'fast-forward' | 'merge'
  mine: string | null
  theirs: string | null
  base: string | null
  changes: PullChangeSet | null
  conflicts: PullConflict[]
  /** Conflict ids without an answer yet. */
  unresolved: string[]
  notes: string[]
  /** Uncommitted work the pull would refuse over (unless commitFirst). */
  uncommitted: string[]
}

export interface PullSummary {
  ok: boolean
  /** The commit the environment is at afterwards. */
  commit: string | null
  /** The commit made of uncommitted work first (commitFirst). */
  committedFirst?: string
  preview: PullPreviewResult
  /** Workflows whose pulled version was written to ComfyUI's user folder (open tabs should reload them). */
  workflowsWritten: string[]
  failed: Array<{ item: string, error: ErrorPayload }>
}

export interface MethodResults {
  'server.hello': HelloResult
  'session.context': SessionContextResult
  'op.cancel': CancelResult
  'env.status': EnvStatusResult
  'env.log': LogEntryResult[]
  'workflows.list': TrackedWorkflowResult[]
  'workflows.analyze': WorkflowAnalysisResult[]
  'workflows.commit': CommitResult
  'workflows.restore': RestoreResult
  'models.download': DownloadResult
  'nodes.install': InstallResult
  'env.export': ExportResult
  'env.commit': CommitResult
  'env.repair': RepairSummary
  'env.adopt': AdoptSummary
  'env.list': EnvSummaryResult[]
  'env.use': { name: string }
  'env.pullPreview': PullPreviewResult
  'env.pull': PullSummary
}

// ---- frames ----

export const requestFrame = z.object({
  v: z.literal(PROTOCOL_VERSION),
  id: z.string().min(1).max(64),
  method: z.string().min(1).max(64),
  params: z.unknown().optional(),
}).strict()

export type RequestFrame<M extends MethodName = MethodName> = {
  v: typeof PROTOCOL_VERSION
  id: string
  method: M
  params?: MethodParams<M>
}

export type ResponseFrame =
  | { v: typeof PROTOCOL_VERSION, type: 'response', id: string, ok: true, result: unknown }
  /** `id` is null when the request was too broken to carry one. */
  | { v: typeof PROTOCOL_VERSION, type: 'response', id: string | null, ok: false, error: ErrorPayload }

export type EventFrame =
  | { v: typeof PROTOCOL_VERSION, type: 'event', event: 'progress', request: string, progress: ProgressEvent }
  /** Something in the environment changed (commit, restore, install...): clients refresh. */
  | { v: typeof PROTOCOL_VERSION, type: 'event', event: 'changed', env: string, method: MethodName }

export type ServerFrame = ResponseFrame | EventFrame

const errorPayload = z.object({ code: z.enum(ERROR_CODES), message: z.string(), hint: z.string().optional() })
const progressSchema = z.object({ op: z.string(), phase: z.enum(['start', 'progress', 'end', 'note']), label: z.string() }).passthrough()

/** What the extension uses to validate frames from the server. */
export const serverFrame = z.union([
  z.object({ v: z.literal(PROTOCOL_VERSION), type: z.literal('response'), id: z.string(), ok: z.literal(true), result: z.unknown() }),
  z.object({ v: z.literal(PROTOCOL_VERSION), type: z.literal('response'), id: z.string().nullable(), ok: z.literal(false), error: errorPayload }),
  z.object({ v: z.literal(PROTOCOL_VERSION), type: z.literal('event'), event: z.literal('progress'), request: z.string(), progress: progressSchema }),
  z.object({ v: z.literal(PROTOCOL_VERSION), type: z.literal('event'), event: z.literal('changed'), env: z.string(), method: z.string() }),
])

export function isMethodName (name: string): name is MethodName {
  return Object.prototype.hasOwnProperty.call(METHOD_PARAMS, name)
}

/**
 * The body of GET /comfydock/bridge, the route the bridge custom node adds to ComfyUI. The bridge also
 * carries the sidecar's WebSocket (`/comfydock/sidecar/ws`) and downloads (`/comfydock/sidecar/downloads/F`)
 * through ComfyUI's own origin; `token` is still required on them.
 */
export interface BridgeInfo {
  /** The sidecar's own address (for messages; the page talks to it through the bridge). */
  url: string | null
  token: string | null
  /** Custom node folders ComfyUI did not import, with the exception from its log. */
  loadFailures?: LoadFailure[]
}
