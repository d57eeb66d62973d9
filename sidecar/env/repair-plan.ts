/**
 * @module What `repair` would do, without doing it: the model needs (aggregated by hash, strongest
 * criticality wins, shared with import), packs missing or at another version, committed workflows
 * missing from ComfyUI. `status` shows it, so this file imports only what reading needs: no download,
 * install or model-store client code (those are in ./repair, loaded by the commands that change things).
 */
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { pathExists, safeDescendant } from '../fs'
import type { Criticality, Pyproject } from '../manifest'
import { ModelIndex } from '../models/model-index'
import { putStoreFirst } from '../models/store/store-first'
import { getNodeStatus } from '../nodes/operations/node-status'
import type { OnProgress } from '../protocol'
import { note } from '../progress'
import { strongest } from '../workflows/criticality'
import { readBrowserWorkflows } from '../workflows/live-copy'
import type { EnvPaths, Workspace } from '../workspace'
import { neededFor } from './needed-for'
import type { StatusSection } from './status'

export type ModelStrategy = 'all' | 'required' | 'skip'

export interface ModelNeed {
  /** Short hash, or `path:<relative path>` for a download intent without a hash. */
  key: string
  hash?: string
  /** Full SHA-256 when the manifest records it: the key of the model in a team store. */
  sha256?: string
  filename: string
  relativePath?: string
  category?: string
  size?: number
  criticality: Criticality
  workflows: string[]
  sources: string[]
  /** In the index with a file on disk. */
  present: boolean
  /** Not present, but a file with other bytes is at its path (the same name, another version). */
  otherBytesAt?: string
}

/**
 * Every model the environment needs, once per hash, with the strongest criticality: what its workflows
 * reference, and global entries given a criticality of their own (`model add` without a workflow).
 */
export function collectModelNeeds (doc: Pyproject): ModelNeed[] {
  const c = doc.tool.comfydock
  const byKey = new Map<string, ModelNeed>()
  for (const [wfName, wf] of Object.entries(c.workflows ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    for (const m of wf.models ?? []) {
      const global = m.hash ? c.models?.[m.hash] : undefined
      const relativePath = global?.relative_path ?? m.relative_path ?? (m.category ? `${m.category}/${m.filename}` : undefined)
      if (!m.hash && !(m.sources?.length)) continue // unresolved with nothing to fetch: the workflow's own issue
      const key = m.hash ?? `path:${relativePath ?? m.filename}`
      const sources = [...new Set([...(global?.sources ?? []), ...(m.sources ?? [])])]
      const seen = byKey.get(key)
      if (seen) {
        seen.criticality = strongest(seen.criticality, m.criticality)
        if (!seen.workflows.includes(wfName)) seen.workflows.push(wfName)
        for (const s of sources) if (!seen.sources.includes(s)) seen.sources.push(s)
        continue
      }
      byKey.set(key, {
        key, hash: m.hash, ...(global?.sha256 ? { sha256: global.sha256 } : {}), filename: global?.filename ?? m.filename, relativePath, category: global?.category ?? m.category,
        size: global?.size, criticality: m.criticality, workflows: [wfName], sources, present: false,
      })
    }
  }
  for (const [hash, g] of Object.entries(c.models ?? {})) {
    const own = g.criticality
    if (!own) continue // written by a workflow commit: needed only through its workflows
    const seen = byKey.get(hash)
    if (seen) { seen.criticality = strongest(seen.criticality, own); continue }
    byKey.set(hash, {
      key: hash, hash, ...(g.sha256 ? { sha256: g.sha256 } : {}), filename: g.filename, relativePath: g.relative_path ?? (g.category ? `${g.category}/${g.filename}` : undefined),
      category: g.category, size: g.size, criticality: own, workflows: [], sources: [...new Set(g.sources ?? [])], present: false,
    })
  }
  return [...byKey.values()]
}

/**
 * Marks which needs are satisfied: indexed with an existing file, or (no hash) a file at the path; and
 * orders the sources of the others, the team's model store first. With `refresh`, when the index lacks
 * any of them it is synced (only new or changed files are hashed) and they are looked up again, so a
 * model put in the models folder but never indexed is found instead of downloaded again: what import,
 * clone, pull and repair do before downloading. When the index has them all, no folder is walked.
 */
export async function markPresentModels (ws: Workspace, needs: ModelNeed[], refresh?: { onProgress?: OnProgress, signal?: AbortSignal }): Promise<ModelNeed[]> {
  if (needs.length === 0) return needs // no index to open (SQLite) for an environment without models
  await putStoreFirst(ws, needs)
  await lookUpNeeds(ws, needs)
  if (refresh && needs.some(n => !n.present)) {
    await refreshModelIndex(ws, refresh)
    await lookUpNeeds(ws, needs)
  }
  return needs
}

async function lookUpNeeds (ws: Workspace, needs: ModelNeed[]): Promise<void> {
  const index = ModelIndex.open(ws)
  try {
    for (const need of needs) {
      delete need.otherBytesAt
      if (need.hash) {
        const locs = index.get(need.hash)?.locations ?? []
        need.present = false
        for (const l of locs) if (await pathExists(join(l.baseDir, l.relPath))) { need.present = true; break }
        if (!need.present && need.relativePath && await pathExists(safeDescendant(ws.modelsDir, need.relativePath, 'model path'))) need.otherBytesAt = need.relativePath
      } else {
        need.present = need.relativePath ? await pathExists(safeDescendant(ws.modelsDir, need.relativePath, 'model path')) : false
      }
    }
  } finally {
    index.close()
  }
}
async function refreshModelIndex (ws: Workspace, ctl: { onProgress?: OnProgress, signal?: AbortSignal }): Promise<void> {
  // the scan (and its hashing) is loaded only when a model is missing from the index
  const { syncIndex } = await import('../models/scan')
  const r = await syncIndex(ws, { onProgress: ctl.onProgress, signal: ctl.signal })
  const found = r.added.length + r.moved.length + r.changed.length
  if (found) note(ctl.onProgress, 'info', `model index: ${r.added.length} new, ${r.moved.length} moved, ${r.changed.length} changed file(s) indexed in ${ws.modelsDir}${r.dirs.length > 1 ? ' and tracked folders' : ''}`)
}

export interface ModelSelection {
  download: ModelNeed[]
  /** Missing and wanted, but no source is known. */
  unavailable: ModelNeed[]
  /** Left out by the strategy. */
  skipped: ModelNeed[]
}

export function selectModelDownloads (missing: ModelNeed[], strategy: ModelStrategy): ModelSelection {
  const out: ModelSelection = { download: [], unavailable: [], skipped: [] }
  for (const need of missing) {
    if (strategy === 'skip' || (strategy === 'required' && need.criticality !== 'required')) out.skipped.push(need)
    else if (need.sources.length === 0) out.unavailable.push(need)
    else out.download.push(need)
  }
  return out
}

export interface RepairOptions {
  models?: ModelStrategy
  /** Delete packs not in the manifest and workflows that are not tracked. */
  removeExtras?: boolean
  onProgress?: OnProgress
  signal?: AbortSignal
}

export interface RepairPlan {
  environment: string
  /** `relock`: the lock is missing or for another manifest, so the sync resolves and writes it. */
  /** relock: the lock is missing or for another manifest; extra: installed packages the lock does not have. */
  python: { pending: string[], relock: boolean, extra: string[] }
  /** Packs to install (missing, or at another version than pinned); dev nodes cannot be installed. */
  nodes: { missing: string[], mismatched: Array<{ id: string, expected: string, actual: string }>, devMissing: string[], extra: string[] }
  workflows: { restore: string[], untracked: string[] }
  models: ModelSelection
  /** What `removeExtras` deletes (empty without it). */
  remove: { nodes: string[], workflows: string[] }
  upToDate: boolean
}

async function liveWorkflowNames (env: EnvPaths): Promise<string[]> {
  try {
    return (await readdir(env.userWorkflows, { withFileTypes: true }))
      .filter(e => e.isFile() && e.name.endsWith('.json')).map(e => e.name.slice(0, -5)).sort()
  } catch {
    return []
  }
}

/** Everything but Python: cheap enough for `status`. */
export async function planFiles (ws: Workspace, env: EnvPaths, doc: Pyproject, opts: RepairOptions, refreshIndex: boolean): Promise<Omit<RepairPlan, 'python' | 'upToDate'>> {
  const c = doc.tool.comfydock
  const status = await getNodeStatus(ws, env)
  const isDev = (id: string): boolean => c.nodes?.[id]?.source === 'development'
  const tracked = Object.entries(c.workflows ?? {})
  const live = await liveWorkflowNames(env)
  const restore: string[] = []
  // a workflow that lives in a browser tab (committed from the panel of another ComfyUI) is not missing
  const inBrowser = await readBrowserWorkflows(env)
  for (const [name, wf] of tracked) {
    if (!live.includes(name) && !inBrowser.has(name) && await pathExists(safeDescendant(env.cec, wf.path, 'workflow path'))) restore.push(name)
  }
  const untracked = live.filter(n => !(c.workflows ?? {})[n])
  const extra = [...status.extra].sort()
  const needs = await markPresentModels(ws, collectModelNeeds(doc), refreshIndex ? opts : undefined)
  return {
    environment: env.name,
    nodes: { missing: status.missing.filter(id => !isDev(id)).sort(), mismatched: status.mismatched, devMissing: status.missing.filter(isDev).sort(), extra },
    workflows: { restore: restore.sort(), untracked },
    models: selectModelDownloads(needs.filter(n => !n.present), opts.models ?? 'all'),
    remove: opts.removeExtras ? { nodes: extra, workflows: untracked } : { nodes: [], workflows: [] },
  }
}

/**
 * The `status` section: models the manifest references that are not on this machine (with the
 * workflows needing them and whether a source exists), packs to install and committed workflows
 * missing from ComfyUI; it points at `comfydock repair` when any of them is there.
 */
export async function getRepairStatus (ws: Workspace, env: EnvPaths, doc: Pyproject): Promise<StatusSection> {
  // status reads the index as it is: a sync is the work of `model index sync`, import and repair
  const plan = await planFiles(ws, env, doc, { models: 'all' }, false)
  const missingModels = [...plan.models.download, ...plan.models.unavailable]
  const details = [
    ...missingModels.map(m => m.otherBytesAt
      ? `model ${m.filename}: ${m.otherBytesAt} has other bytes than the committed model ${m.hash} (${neededFor(m)}); commit to record this file, or put the committed one back`
      : `model ${m.filename} missing (${m.criticality}, ${neededFor(m)})${m.sources.length ? '' : ' - no download source'}`),
    ...plan.nodes.missing.map(id => `pack ${id} not installed`),
    ...plan.nodes.mismatched.map(m => `pack ${m.id} at ${m.actual.slice(0, 12)}, pinned ${m.expected.slice(0, 12)}`),
    ...plan.workflows.restore.map(w => `workflow ${w} committed but missing from ComfyUI`),
  ]
  const ok = details.length === 0
  return {
    ok,
    summary: ok ? 'models, packs and workflows match the manifest' : `${details.length} thing${details.length === 1 ? '' : 's'} to repair; run \`comfydock -e ${env.name} repair\``,
    details,
    missing_models: missingModels.map(m => ({ filename: m.filename, hash: m.hash ?? null, criticality: m.criticality, workflows: m.workflows, has_source: m.sources.length > 0, ...(m.otherBytesAt ? { other_bytes_at: m.otherBytesAt } : {}) })),
    packs_to_install: [...plan.nodes.missing, ...plan.nodes.mismatched.map(m => m.id)],
    workflows_to_restore: plan.workflows.restore,
  }
}
