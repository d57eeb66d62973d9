/**
 * @module `rollback REF`: puts `.cec/` back to a commit, records that as a new commit (history is never
 * rewritten), then brings ComfyUI and the venv in line with the restored manifest.
 * Only files git tracks are touched, plus ComfyUI's copies of the tracked workflows (brought to the
 * rolled-back version, so a later commit does not undo the rollback): untracked user files in `.cec/`,
 * custom_nodes, models stay. A workflow edited in ComfyUI and not committed blocks it like any edit.
 * The `.cec` part holds the environment lock (a commit cannot interleave); the slow sync runs after it.
 */
import { rm } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { ensureCached } from '../comfyui'
import { ComfydockError } from '../errors'
import { safeJoin } from '../fs'
import { isUntracked, openGit } from '../git'
import { parseManifest, readManifest, type Pyproject } from '../manifest'
import { startTask } from '../progress'
import type { OnProgress } from '../protocol'
import { openPythonBackend } from '../python'
import type { EnvPaths, Workspace } from '../workspace'
import { workflowsWithUncommittedEdits, writeSnapshotsToUserFolder } from '../workflows'
import { withEnvLock } from './lock'

export interface RollbackOptions {
  /** Discard uncommitted changes to tracked files. */
  force?: boolean
  onProgress?: OnProgress
  signal?: AbortSignal
}

export interface RollbackResult {
  target: string
  /** The new commit recording the rollback; null when .cec already matched the target. */
  commit: string | null
  comfyuiChanged: boolean
}

/** Moves the env's ComfyUI checkout to `commit`, fetching it from the per-commit cache. */
export async function checkoutComfyui (ws: Workspace, env: EnvPaths, doc: Pyproject, signal?: AbortSignal): Promise<boolean> {
  const t = doc.tool.comfydock
  if (!t.comfyui_commit_sha) return false
  const repo = openGit(env.comfyui)
  if (await repo.head() === t.comfyui_commit_sha) return false
  const cached = await ensureCached(ws, ws.config().comfyui_source, { version: t.comfyui_version ?? t.comfyui_commit_sha, type: t.comfyui_version_type ?? 'commit', commit: t.comfyui_commit_sha }, { signal })
  // Fetch the commit from our own cached tree (a local path we made), then check it out; untracked files (custom_nodes, models, user) stay.
  await repo.fetch(cached.dir, [cached.commit], { policy: { allowLocal: true }, signal })
  await repo.checkoutDetached(cached.commit)
  return true
}

/** Puts `.cec` back to `target` and records it, under the environment lock (history is what it guards). */
async function restoreCec (env: EnvPaths, target: string, opts: RollbackOptions): Promise<string | null> {
  const git = openGit(env.cec)
  const status = await git.status()
  const dirty = status.filter(e => !isUntracked(e))
  // An untracked file where the target has a tracked one would be overwritten: that is user work too.
  const targetFiles = new Set(await git.listFiles(target))
  const paths = [...dirty, ...status.filter(e => isUntracked(e) && targetFiles.has(e.path))].map(e => e.path)
  // So is a workflow edited in ComfyUI since the last commit: its user-folder copy is brought to the target too.
  for (const name of await workflowsWithUncommittedEdits(env)) if (targetFiles.has(`workflows/${name}.json`)) paths.push(relative(env.root, join(env.userWorkflows, `${name}.json`)))
  if (paths.length && !opts.force) {
    throw new ComfydockError('UNCOMMITTED_CHANGES', `environment "${env.name}" has uncommitted changes (${paths.slice(0, 3).join(', ')}${paths.length > 3 ? ', …' : ''})`, {
      hint: 'Commit them with `comfydock commit -m "..."`, or discard them with `comfydock rollback REF --force`.',
    })
  }
  // Tracked files the target does not have are removed; everything else is restored from the target.
  const added = await git.diffNames(target, 'HEAD', 'A')
  await git.checkoutFiles(target)
  for (const path of added) await rm(safeJoin(env.cec, path), { force: true })
  await git.addTracked()
  const commit = await git.commit(`Rollback to ${target.slice(0, 7)}`, { all: false })
  await writeSnapshotsToUserFolder(env)
  return commit
}

export async function rollbackEnvironment (ws: Workspace, env: EnvPaths, ref: string, opts: RollbackOptions = {}): Promise<RollbackResult> {
  const cec = openGit(env.cec)
  const target = await cec.revParse(ref)
  if (!target) {
    throw new ComfydockError('REF_NOT_FOUND', `"${ref}" is not a commit of environment "${env.name}"`, { hint: 'Run `comfydock log` to see commit ids.' })
  }
  // The target's manifest passes the schema before anything changes: a commit pulled from elsewhere is a stranger's file.
  const manifest = await cec.show(target, 'pyproject.toml')
  if (manifest !== null) parseManifest(manifest, `pyproject.toml of commit ${target.slice(0, 7)}`)
  const task = startTask(opts.onProgress, `roll back to ${target.slice(0, 7)}`)
  try {
    const commit = await withEnvLock(env, 'comfydock rollback', () => restoreCec(env, target, opts), { signal: opts.signal })
    const doc = await readManifest(env.pyproject)
    task.advance(0, 'ComfyUI')
    const comfyuiChanged = await checkoutComfyui(ws, env, doc, opts.signal)
    task.advance(0, 'Python packages')
    const backend = await openPythonBackend(ws, env)
    await backend.sync(doc, { onProgress: opts.onProgress, signal: opts.signal, locked: true })
    task.end('ok')
    return { target, commit, comfyuiChanged }
  } catch (err) {
    task.end('failed')
    throw err
  }
}
