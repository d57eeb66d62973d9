/**
 * @module `repair`: bring an environment back to what its manifest says, after a `git pull`, a deleted
 * model file or a lost folder. Plan first (nothing changes), preview, then act: Python sync, missing
 * packs, committed workflows missing from ComfyUI's user folder, missing models. Non-destructive by
 * default: untracked packs and uncommitted workflows are listed; only `removeExtras` deletes them.
 * The plan (model needs, packs, workflows) is in ./repair-plan, which `status` loads without this file.
 */
import { copyFile, mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { ComfydockError, toErrorPayload } from '../errors'
import { pathExists, safeDescendant } from '../fs'
import { readManifest } from '../manifest'
import { downloadModel, hostContext, transferLimit } from '../models'
import { installMissingNodes } from '../nodes'
import type { ErrorPayload, OnProgress } from '../protocol'
import { startTask, withTask } from '../progress'
import { extraneousPackages, openPythonBackend, readLockState } from '../python'
import { userWorkflowFile } from '../workflows'
import { packDir, type EnvPaths, type Workspace } from '../workspace'
import { planFiles, type ModelNeed, type RepairOptions, type RepairPlan } from './repair-plan'

export {
  collectModelNeeds, getRepairStatus, markPresentModels, selectModelDownloads,
  type ModelNeed, type ModelSelection, type ModelStrategy, type RepairOptions, type RepairPlan,
} from './repair-plan'

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
