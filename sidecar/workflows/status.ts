/**
 * @module getWorkflowStatus: every workflow of an environment with its sync state, the packs and models it
 * is missing, and the command that fixes each. Resolutions are cached by content + resolution context.
 */
import { toErrorPayload } from '../errors'
import { ModelIndex } from '../models/model-index'
import { createNodeResolver, type NodeResolver } from '../nodes/resolver/create-node-resolver'
import type { ErrorPayload } from '../protocol'
import type { EnvPaths, Workspace } from '../workspace'
import { analyzeWorkflow } from './analyze'
import { AnalysisCache, resolutionContext } from './cache'
import { previousEntry, resolveAnalysis, type NodeTypeState, type ResolveOptions, type WorkflowIssue, type WorkflowResolution } from './resolve'
import type { ModelResolution } from './resolve-models'
import { currentContent, readBrowserWorkflows, type WorkflowHome } from './live-copy'
import { listWorkflows, type SyncState } from './tracking'

export interface WorkflowStatusEntry {
  name: string
  tracked: boolean
  state: SyncState
  /** Where its current content lives (see live-copy.ts); null when deleted. */
  location: WorkflowHome | null
  missing_nodes: NodeTypeState[]
  missing_models: ModelResolution[]
  issues: WorkflowIssue[]
  /** The next command to run for this workflow, if any. */
  fix?: string
  error?: ErrorPayload
}

export interface WorkflowStatus {
  environment: string
  workflows: WorkflowStatusEntry[]
}

export type StatusOptions = Pick<ResolveOptions, 'objectInfo' | 'modelLists' | 'network' | 'onProgress' | 'signal'>

/** A cached or fresh resolution of the live file (no prompts: ambiguities stay ambiguous). */
export async function cachedResolution (ws: Workspace, env: EnvPaths, name: string, bytes: Buffer, cache: AnalysisCache | undefined, context: string,
  opts: StatusOptions = {}, modelIndex?: () => ModelIndex, nodeResolver?: NodeResolver): Promise<WorkflowResolution> {
  const key = AnalysisCache.key(bytes, context)
  const hit = opts.objectInfo ? undefined : cache?.get<WorkflowResolution>(key)
  if (hit) return hit
  const analysis = analyzeWorkflow(bytes, { file: `${name}.json`, objectInfo: opts.objectInfo, modelLists: opts.modelLists })
  const r = await resolveAnalysis(ws, env, name, analysis, { ...opts, yes: true, modelIndex: modelIndex?.(), nodeResolver }, await previousEntry(env, name))
  r.notes = []
  if (!opts.objectInfo) cache?.set(key, r)
  return r
}

/** What a resolved workflow lacks: the facts `status` and the panel both report. */
export function lacksOf (r: WorkflowResolution): Pick<WorkflowStatusEntry, 'missing_nodes' | 'missing_models'> {
  return {
    missing_nodes: r.nodes.filter(n => n.status === 'unresolved' || n.status === 'ambiguous' || (n.status === 'resolved' && !n.installed)),
    missing_models: r.models.filter(m => m.status !== 'resolved'),
  }
}

export async function getWorkflowStatus (ws: Workspace, env: EnvPaths, opts: StatusOptions = {}): Promise<WorkflowStatus> {
  const list = await listWorkflows(ws, env)
  // nothing to resolve: no cache or index to open (they load SQLite)
  if (list.length === 0) return { environment: env.name, workflows: [] }
  const cache = AnalysisCache.open(ws)
  const context = resolutionContext(ws, env)
  const workflows: WorkflowStatusEntry[] = []
  let index: ModelIndex | undefined
  const shared = () => (index ??= ModelIndex.open(ws))
  // read-only: one resolver (installed packs, mappings, registry answers read once) serves every workflow
  const resolver = createNodeResolver(ws, env, { objectInfo: opts.objectInfo, network: opts.network, onProgress: opts.onProgress, signal: opts.signal })
  try {
    const inBrowser = await readBrowserWorkflows(env)
    for (const { name, tracked, state, location } of list) {
      const entry: WorkflowStatusEntry = { name, tracked, state, location, missing_nodes: [], missing_models: [], issues: [] }
      workflows.push(entry)
      const bytes = state === 'deleted' ? undefined : (await currentContent(env, name, tracked ? inBrowser : new Set()))?.bytes
      if (!bytes) {
        entry.fix = 'comfydock commit -m "remove deleted workflow"'
        continue
      }
      try {
        const r = await cachedResolution(ws, env, name, bytes, cache, context, opts, shared, resolver)
        Object.assign(entry, lacksOf(r))
        entry.issues = r.issues
      } catch (err) {
        entry.error = toErrorPayload(err)
      }
      if (!tracked) entry.fix = `comfydock workflow track ${name}`
      else if (entry.issues.length) entry.fix = entry.issues[0].fix
      else if (state === 'new' || state === 'modified') entry.fix = 'comfydock commit -m "..."'
    }
  } finally {
    cache?.close()
    index?.close()
  }
  return { environment: env.name, workflows }
}

/** The `workflows` section of `comfydock status`: sync state, what each workflow lacks, and the fixing command. */
export async function getWorkflowStatusSection (ws: Workspace, env: EnvPaths): Promise<{ ok: boolean, summary: string, details: string[], workflows: WorkflowStatusEntry[] }> {
  const { workflows } = await getWorkflowStatus(ws, env)
  const needsWork = (w: WorkflowStatusEntry): boolean =>
    w.state !== 'synced' || w.missing_nodes.length > 0 || w.missing_models.length > 0 || w.issues.length > 0 || Boolean(w.error)
  const details = workflows.filter(needsWork).map(w => {
    const missing = [
      w.missing_nodes.length && `${w.missing_nodes.length} pack${w.missing_nodes.length === 1 ? '' : 's'} missing`,
      w.missing_models.length && `${w.missing_models.length} model${w.missing_models.length === 1 ? '' : 's'} missing`,
      w.error && w.error.message,
    ].filter(Boolean).join(', ')
    return `${w.state.padEnd(9)} ${w.name}${missing ? ` (${missing})` : ''}${w.fix ? ` → ${w.fix}` : ''}`
  })
  const tracked = workflows.filter(w => w.tracked).length
  const ok = details.length === 0
  return {
    ok,
    summary: ok
      ? `${tracked} tracked workflow${tracked === 1 ? '' : 's'}, all committed and resolved`
      : `${details.length} workflow${details.length === 1 ? '' : 's'} need attention`,
    details,
    workflows,
  }
}
