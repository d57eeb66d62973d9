/**
 * @module `repair`: bring an environment back to what its manifest says, after a `git pull`, a deleted
 * model file or a lost folder. Plan first (nothing changes), preview, then act: Python sync, missing
 * packs, committed workflows missing from ComfyUI's user folder, missing models. Non-destructive by
 * default: untracked packs and uncommitted workflows are listed; only `removeExtras` deletes them.
 * The model needs (aggregated by hash, strongest criticality wins) are shared with import.
 */
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { ComfydockError, toErrorPayload } from '../errors'
import { pathExists, safeDescendant } from '../fs'
import { readManifest, type Pyproject } from '../manifest'
import { downloadModel, hostContext, ModelIndex, putStoreFirst, syncIndex, transferLimit } from '../models'
import { getNodeStatus, installMissingNodes } from '../nodes'
import type { ErrorPayload, OnProgress } from '../protocol'
import { note, startTask, withTask } from '../progress'
import { extraneousPackages, openPythonBackend, readLockState } from '../python'
import { readBrowserWorkflows, strongest, userWorkflowFile } from '../workflows'
import type { Criticality } from '../manifest'
import { packDir, type EnvPaths, type Workspace } from '../workspace'
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

export interface ModelDownloadOutcome {
  downloaded: Array<{ filename: string, hash: string, relPath: string }>
  failed: Array<{ filename: string, error: ErrorPayload }>
}

/**
 * Downloads each need from its sources in turn (the next source when one fails), several needs at once
 * (`model_transfers`); failures are collected.
 */
export async function downloadModelNeeds (ws: Workspace, needs: ModelNeed[], opts: { onProgress?: OnProgress, signal?: AbortSignal } = {}): Promise<ModelDownloadOutcome> {
  const out: ModelDownloadOutcome = { downloaded: [], failed: [] }
  if (needs.length === 0) return out
  const task = startTask(opts.onProgress, `download ${needs.length} model${needs.length === 1 ? '' : 's'}`, { total: needs.length, unit: 'items' })
  const limit = transferLimit(await hostContext(ws))
  let next = 0
  let done = 0
  const lane = async (): Promise<void> => {
    while (next < needs.length) {
      const need = needs[next++]
      let lastError: unknown
      for (const url of need.sources) {
        try {
          const m = await downloadModel(ws, { url, relPath: need.relativePath, folder: need.category, expectedHash: need.hash }, { onProgress: opts.onProgress, parent: task.id, signal: opts.signal })
          out.downloaded.push({ filename: need.filename, hash: m.hash, relPath: m.relPath })
          lastError = undefined
          break
        } catch (err) {
          lastError = err
          if ((err as { code?: string }).code === 'CANCELLED') throw err
        }
      }
      if (lastError !== undefined) out.failed.push({ filename: need.filename, error: toErrorPayload(lastError) })
      task.advance(++done)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, needs.length) }, lane))
  task.end(out.failed.length ? 'failed' : 'ok')
  return out
}

export interface PackOutcome {
  installed: string[]
  failed: Array<{ id: string, error: ErrorPayload }>
}

/**
 * Installs every tracked registry/git pack whose folder is missing or at another version, exactly as
 * pinned, one by one; failures are recorded and the next pack still runs. Python is not synced here.
 */
export async function installPinnedPacks (ws: Workspace, env: EnvPaths, ctl: { onProgress?: OnProgress, signal?: AbortSignal } = {}): Promise<PackOutcome> {
  const batch = await installMissingNodes(ws, env, ctl)
  return {
    installed: batch.results.filter(r => r.ok).map(r => r.id ?? r.spec),
    failed: batch.results.filter(r => !r.ok).map(r => ({ id: r.id ?? r.spec, error: r.error ?? { code: 'NODE_INSTALL_FAILED', message: 'install failed' } })),
  }
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
async function planFiles (ws: Workspace, env: EnvPaths, doc: Pyproject, opts: RepairOptions, refreshIndex: boolean): Promise<Omit<RepairPlan, 'python' | 'upToDate'>> {
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

export async function planRepair (ws: Workspace, env: EnvPaths, opts: RepairOptions = {}): Promise<RepairPlan> {
  const doc = await readManifest(env.pyproject)
  const backend = await openPythonBackend(ws, env)
  const pending = (await pathExists(env.venv)) ? await backend.pending(doc) : ['(virtual environment missing)']
  const lock = await readLockState(env, doc)
  const relock = !lock.matches
  const extra = lock.matches ? await extraneousPackages(env.venv, lock.packages) : []
  const files = await planFiles(ws, env, doc, opts, true)
  const upToDate = pending.length === 0 && !relock && extra.length === 0 && files.nodes.missing.length === 0 && files.nodes.mismatched.length === 0 &&
    files.workflows.restore.length === 0 && files.models.download.length === 0 && files.remove.nodes.length === 0 && files.remove.workflows.length === 0
  return { ...files, python: { pending, relock, extra }, upToDate }
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

export interface RepairResult {
  plan: RepairPlan
  python: { synced: boolean, error?: ErrorPayload }
  nodes: PackOutcome
  workflows: { restored: string[] }
  models: ModelDownloadOutcome
  removed: { nodes: string[], workflows: string[] }
  ok: boolean
}

/** Carries out a plan from `planRepair`; each part's failures are collected, the rest still runs. */
export async function applyRepair (ws: Workspace, env: EnvPaths, plan: RepairPlan, opts: RepairOptions = {}): Promise<RepairResult> {
  const result: RepairResult = {
    plan,
    python: { synced: false },
    nodes: { installed: [], failed: [] },
    workflows: { restored: [] },
    models: { downloaded: [], failed: [] },
    removed: { nodes: [], workflows: [] },
    ok: true,
  }
  const doc = await readManifest(env.pyproject)
  if (plan.nodes.missing.length || plan.nodes.mismatched.length) result.nodes = await installPinnedPacks(ws, env, opts)
  // after the packs: their requirements are dependency groups of the manifest
  if (plan.python.pending.length || plan.python.relock || plan.python.extra.length) {
    try {
      await withTask(opts.onProgress, 'sync Python packages', {}, async () => {
        const backend = await openPythonBackend(ws, env)
        await backend.ensureVenv({ onProgress: opts.onProgress })
        await backend.sync(doc, { onProgress: opts.onProgress, signal: opts.signal, locked: true })
      })
      result.python.synced = true
    } catch (err) {
      // Ctrl-C stops the repair as a whole; other failures are reported and the rest still runs
      if (err instanceof ComfydockError && err.code === 'CANCELLED') throw err
      result.python.error = toErrorPayload(err)
    }
  }
  await mkdir(env.userWorkflows, { recursive: true })
  for (const name of plan.workflows.restore) {
    const wf = doc.tool.comfydock.workflows?.[name]
    if (!wf) continue
    // names and paths come from a manifest that may have been pulled: never outside their folders
    await copyFile(safeDescendant(env.cec, wf.path, 'workflow path'), userWorkflowFile(env, name))
    result.workflows.restored.push(name)
  }
  result.models = await downloadModelNeeds(ws, plan.models.download, opts)
  for (const name of plan.remove.nodes) {
    await rm(packDir(env, name), { recursive: true, force: true })
    result.removed.nodes.push(name)
  }
  for (const name of plan.remove.workflows) {
    await rm(userWorkflowFile(env, name), { force: true })
    result.removed.workflows.push(name)
  }
  result.ok = !result.python.error && result.nodes.failed.length === 0 && result.models.failed.length === 0
  return result
}
