/**
 * @module `rollback REF`: puts `.cec/` back to a commit, records that as a new commit (history is never
 * rewritten), then brings ComfyUI and the venv in line with the restored manifest.
 * Only files git tracks are touched: untracked user files in `.cec/`, custom_nodes, models stay.
 * The `.cec` part holds the environment lock (a commit cannot interleave); the slow sync runs after it.
 */
import { rm } from 'node:fs/promises'
import { ensureCached } from '../comfyui'
import { ComfydockError } from '../errors'
import { run } from '../exec'
import { safeJoin } from '../fs'
import { openGit } from '../git'
import { readManifest, type Pyproject } from '../manifest'
import { startTask } from '../progress'
import type { OnProgress } from '../protocol'
import { openPythonBackend } from '../python'
import type { EnvPaths, Workspace } from '../workspace'
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
async function checkoutComfyui (ws: Workspace, env: EnvPaths, doc: Pyproject, signal?: AbortSignal): Promise<boolean> {
  const t = doc.tool.comfydock
  if (!t.comfyui_commit_sha) return false
  const head = await run('git', ['-C', env.comfyui, 'rev-parse', 'HEAD'], { allowFailure: true })
  if (head.code === 0 && head.stdout.trim() === t.comfyui_commit_sha) return false
  const cached = await ensureCached(ws, ws.config().comfyui_source, { version: t.comfyui_version ?? t.comfyui_commit_sha, type: t.comfyui_version_type ?? 'commit', commit: t.comfyui_commit_sha }, { signal })
  // Fetch the commit from the cached tree, then check it out; untracked files (custom_nodes, models, user) stay.
  await run('git', ['-C', env.comfyui, 'fetch', '-q', cached.dir, cached.commit])
  await run('git', ['-C', env.comfyui, 'checkout', '-q', '--detach', cached.commit])
  return true
}

/** Puts `.cec` back to `target` and records it, under the environment lock (history is what it guards). */
async function restoreCec (env: EnvPaths, target: string, opts: RollbackOptions): Promise<string | null> {
  const git = openGit(env.cec)
  const status = await git.status()
  const dirty = status.filter(line => !line.startsWith('??'))
  // An untracked file where the target has a tracked one would be overwritten: that is user work too.
  const targetFiles = new Set((await git.raw(['ls-tree', '-r', '--name-only', '-z', target])).split('\0').filter(Boolean))
  dirty.push(...status.filter(line => line.startsWith('??') && targetFiles.has(line.slice(3))))
  if (dirty.length && !opts.force) {
    throw new ComfydockError('UNCOMMITTED_CHANGES', `environment "${env.name}" has uncommitted changes (${dirty.map(l => l.slice(3)).slice(0, 3).join(', ')}${dirty.length > 3 ? ', …' : ''})`, {
      hint: 'Commit them with `comfydock commit -m "..."`, or discard them with `comfydock rollback REF --force`.',
    })
  }
  // Tracked files the target does not have are removed; everything else is restored from the target.
  const added = (await git.raw(['diff', '--name-only', '--diff-filter=A', '-z', target, 'HEAD'])).split('\0').filter(Boolean)
  await git.raw(['checkout', target, '--', '.'])
  for (const path of added) await rm(safeJoin(env.cec, path), { force: true })
  await git.raw(['add', '-u', '--', '.'])
  return git.commit(`Rollback to ${target.slice(0, 7)}`, { all: false })
}

export async function rollbackEnvironment (ws: Workspace, env: EnvPaths, ref: string, opts: RollbackOptions = {}): Promise<RollbackResult> {
  const target = await openGit(env.cec).revParse(ref)
  if (!target) {
    throw new ComfydockError('REF_NOT_FOUND', `"${ref}" is not a commit of environment "${env.name}"`, { hint: 'Run `comfydock log` to see commit ids.' })
  }
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
