/**
 * @module What every node operation needs: the environment, the cached registry client, the cache
 * stores, and the Python step (conflict check, then sync) that names the packs a conflict is between.
 */
import { ComfydockError } from '../../errors'
import { safePathComponent } from '../../fs'
import type { Pyproject } from '../../manifest'
import type { OnProgress } from '../../protocol'
import { openPythonBackend, restoreLock, snapshotLock } from '../../python'
import type { EnvPaths, Workspace } from '../../workspace'
import { openRegistry, type RegistryClient } from '../registry'
import { createArchiveStore, createGitStore } from '../store'
import type { NodeStores } from '../sources'
import { packConflict } from './pack-conflict'
import { mkdir, rename } from 'node:fs/promises'
import { dirname, join } from 'node:path'

export interface NodeOperationOptions {
  onProgress?: OnProgress
  signal?: AbortSignal
  /** false: record the packs and their dependency groups without installing Python packages. */
  syncPython?: boolean
}

export interface NodeContext {
  ws: Workspace
  env: EnvPaths
  registry: RegistryClient
  stores: NodeStores
  opts: NodeOperationOptions
  warnings: string[]
  warn (message: string): void
}

/** `refresh` asks the registry even when a cached answer is fresh (updates want the newest version). */
export function openNodeContext (ws: Workspace, env: EnvPaths, opts: NodeOperationOptions = {}, refresh = false): NodeContext {
  const warnings: string[] = []
  return {
    ws,
    env,
    registry: openRegistry(ws, { signal: opts.signal, refresh }),
    stores: { archives: createArchiveStore(ws.cache.nodes), git: createGitStore(ws.cache.nodes, ws.localSourcePolicy()) },
    opts,
    warnings,
    warn (message) {
      if (warnings.includes(message)) return
      warnings.push(message)
      opts.onProgress?.({ op: 'nodes-warn', phase: 'note', level: 'warn', label: message, message })
    },
  }
}

/**
 * Resolves the whole environment with the change and installs it, writing the new lock. The installer
 * resolves every pack's requirements together before it installs anything, so a conflict changes
 * nothing and is re-raised naming `packId`, the other packs and the requirement on each side. When the
 * install itself fails or is interrupted, the old lock is put back and the venv synced to it again
 * (the caller restores pyproject.toml), so the environment is left as it was. With `manifestWritten`
 * (pyproject.toml being written meanwhile), the lock files wait for it, and its failure undoes the same way.
 */
export async function syncPythonFor (ctx: NodeContext, doc: Pyproject, packId: string, before: Pyproject, manifestWritten?: PromiseLike<unknown>): Promise<void> {
  if (ctx.opts.syncPython === false) return
  const [backend, snapshot] = await Promise.all([openPythonBackend(ctx.ws, ctx.env), snapshotLock(ctx.env)])
  try {
    await backend.sync(doc, { onProgress: ctx.opts.onProgress, signal: ctx.opts.signal, manifestWritten })
  } catch (err) {
    await restoreLock(ctx.env, snapshot)
    if (err instanceof ComfydockError && err.code === 'DEPENDENCY_CONFLICT') throw packConflict(err, doc, packId) ?? err
    if (snapshot.requirements) {
      // the install got under way: back to the last locked state (not cancellable: it is the way back)
      await backend.sync(before, { locked: true }).catch(restoreErr => ctx.warn(`could not put the venv back to its locked state: ${(restoreErr as Error).message}; run \`comfydock repair\``))
    }
    if (err instanceof ComfydockError) throw new ComfydockError(err.code, `${packId}: ${err.message}`, { hint: err.hint, cause: err })
    throw err
  }
}

/**
 * Where a pack is prepared or set aside: in the environment, on the same filesystem as custom_nodes
 * (so the final move is a rename), but outside it, so ComfyUI never loads a half-made folder left by
 * an interrupted run.
 */
export async function stagingDir (env: EnvPaths, name: string, purpose: 'new' | 'old'): Promise<string> {
  const parent = join(env.root, '.comfydock-staging')
  await mkdir(parent, { recursive: true })
  return join(parent, `${safePathComponent(name, 'pack folder')}.${purpose}`)
}

/** Moves a prepared pack into place; custom_nodes itself may be missing (trees without it, or deleted by hand). */
export async function moveIntoPlace (staging: string, dest: string): Promise<void> {
  await mkdir(dirname(dest), { recursive: true })
  await rename(staging, dest)
}
