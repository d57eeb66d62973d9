/**
 * @module `node remove`: untracks packs and drops their dependency groups. Registry and git folders are
 * deleted (they are in the cache); development nodes are renamed to `NAME.disabled`, never deleted.
 * The folder is moved aside first and only deleted once pyproject.toml is written.
 */
import { rename, rm } from 'node:fs/promises'
import { ComfydockError, toErrorPayload } from '../../errors'
import { pathExists } from '../../fs'
import { readManifest, withManifestTransaction, writeManifest } from '../../manifest'
import { openPythonBackend } from '../../python'
import { packDir, venvPython, type EnvPaths, type Workspace } from '../../workspace'
import { assertNoLocalWork } from '../local-work'
import { removePack, requirePackId } from '../pack-manifest'
import { createGitStore, type GitStore } from '../store'
import type { BatchResult, NodeItemResult } from './add-nodes'
import { stagingDir, type NodeOperationOptions } from './node-context'

export interface RemovedBatch extends Omit<BatchResult, 'results'> {
  results: RemovedNode[]
}

export interface RemovedNode extends NodeItemResult {
  /** What happened to the folder. */
  folder?: 'deleted' | 'disabled' | 'absent'
}

/** Moves the folder, then writes; the folder moves back if the write fails. */
async function moveThenWrite (from: string, to: string, write: () => Promise<void>): Promise<void> {
  await rename(from, to)
  try {
    await write()
  } catch (err) {
    await rename(to, from)
    throw err
  }
}

async function removeOne (env: EnvPaths, git: GitStore, query: string, force: boolean): Promise<RemovedNode> {
  return withManifestTransaction(env.pyproject, async doc => {
    const id = requirePackId(doc, query)
    const entry = removePack(doc, id)!
    const dir = packDir(env, entry.name)
    if (!(await pathExists(dir))) {
      await writeManifest(env.pyproject, doc)
      return { spec: query, ok: true, id, entry, folder: 'absent' as const }
    }
    if (entry.source === 'development') {
      const disabled = `${dir}.disabled`
      if (await pathExists(disabled)) {
        throw new ComfydockError('NODE_INSTALL_FAILED', `${disabled} already exists; not overwriting it`, { hint: `Move or rename ${disabled}, then run \`comfydock node remove ${id}\` again.` })
      }
      await moveThenWrite(dir, disabled, () => writeManifest(env.pyproject, doc))
      return { spec: query, ok: true, id, entry, folder: 'disabled' as const }
    }
    if (!force) {
      await assertNoLocalWork(dir, git, entry.repository, 'deleting',
        `Commit and push your changes first, or re-run with --force to delete them: \`comfydock node remove ${id} --force\`.`)
    }
    const aside = await stagingDir(env, entry.name, 'old')
    await rm(aside, { recursive: true, force: true })
    await moveThenWrite(dir, aside, () => writeManifest(env.pyproject, doc))
    await rm(aside, { recursive: true, force: true })
    return { spec: query, ok: true, id, entry, folder: 'deleted' as const }
  })
}

export interface RemoveNodesOptions extends NodeOperationOptions {
  /** Delete git pack folders even when they hold uncommitted changes or local commits. */
  force?: boolean
}

/**
 * Then the environment is resolved again without the removed packs' groups: the lock is rewritten and
 * the packages nothing needs any more are uninstalled. If that fails (offline, say), the packs stay
 * removed and the warning says how to finish (`repair`).
 */
export async function removeNodes (ws: Workspace, env: EnvPaths, ids: string[], opts: RemoveNodesOptions = {}): Promise<RemovedBatch> {
  const git = createGitStore(ws.cache.nodes, ws.localSourcePolicy())
  const results: RemovedNode[] = []
  const warnings: string[] = []
  for (const q of ids) {
    try {
      results.push(await removeOne(env, git, q, Boolean(opts.force)))
    } catch (err) {
      results.push({ spec: q, ok: false, error: toErrorPayload(err) })
    }
  }
  // An environment without a venv (never synced) has nothing to uninstall; its next sync writes the lock.
  if (opts.syncPython !== false && results.some(r => r.ok) && await pathExists(venvPython(env.venv))) {
    try {
      const backend = await openPythonBackend(ws, env)
      await backend.sync(await readManifest(env.pyproject), { onProgress: opts.onProgress, signal: opts.signal })
    } catch (err) {
      if (err instanceof ComfydockError && err.code === 'CANCELLED') throw err
      const message = `the packs are removed, but their Python packages are still installed and the lock is not updated: ${(err as Error).message.split('\n')[0]}. Run \`comfydock -e ${env.name} repair\`.`
      warnings.push(message)
      opts.onProgress?.({ op: 'nodes-warn', phase: 'note', level: 'warn', label: message, message })
    }
  }
  return { results, ok: results.every(r => r.ok), warnings }
}
