/**
 * @module What every node operation needs: the environment, the cached registry client, the cache
 * stores, and the Python step (conflict check, then sync) that names the packs a conflict is between.
 */
import { ComfydockError } from '../../errors'
import type { Pyproject } from '../../manifest'
import type { OnProgress } from '../../protocol'
import { openPythonBackend, requirementName } from '../../python'
import type { EnvPaths, Workspace } from '../../workspace'
import { packsRequiring } from '../pack-manifest'
import { openRegistry, type RegistryClient } from '../registry'
import { createArchiveStore, createGitStore } from '../store'
import type { NodeStores } from '../sources'
import { mkdir, rename } from 'node:fs/promises'
import { dirname, join } from 'node:path'

export interface NodeOperationOptions {
  onProgress?: OnProgress
  signal?: AbortSignal
  fetch?: typeof globalThis.fetch
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
    registry: openRegistry(ws, { fetch: opts.fetch, signal: opts.signal, refresh }),
    stores: { archives: createArchiveStore(ws.cache.nodes), git: createGitStore(ws.cache.nodes) },
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
 * Installs the manifest's requirements. The installer resolves before it installs, so a conflict
 * changes nothing; only then is the dry-run check run, to tell a conflict from other failures, and a
 * conflict is re-raised naming `packId` and the other packs whose requirements the installer quoted.
 */
export async function syncPythonFor (ctx: NodeContext, doc: Pyproject, packId: string): Promise<void> {
  if (ctx.opts.syncPython === false) return
  const backend = await openPythonBackend(ctx.ws, ctx.env)
  try {
    await backend.sync(doc, { onProgress: ctx.opts.onProgress, signal: ctx.opts.signal })
    return
  } catch (syncErr) {
    try {
      await backend.check(doc)
    } catch (err) {
      const named = err instanceof ComfydockError && err.code === 'DEPENDENCY_CONFLICT' ? namePacks(err, doc, packId) : undefined
      if (named) throw named
    }
    if (syncErr instanceof ComfydockError) throw new ComfydockError(syncErr.code, `${packId}: ${syncErr.message}`, { hint: syncErr.hint, cause: syncErr })
    throw syncErr
  }
}

/** A conflict between `packId` and the packs (or ComfyUI) whose requirements the installer quoted; undefined when it quoted none. */
function namePacks (err: ComfydockError, doc: Pyproject, packId: string): ComfydockError | undefined {
  const text = err.message.toLowerCase().replace(/_/g, '-')
  const mentioned = (req: string): boolean => new RegExp(`(^|[^a-z0-9-])${requirementName(req).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([^a-z0-9-]|$)`).test(text)
  const others = packsRequiring(doc, mentioned).filter(id => id !== packId)
  const core = doc.project.dependencies.some(mentioned) ? ['ComfyUI\'s own requirements'] : []
  const against = [...others, ...core]
  if (against.length === 0) return undefined
  return new ComfydockError('DEPENDENCY_CONFLICT', `${packId} conflicts with ${against.join(', ')}: ${err.message}`, {
    hint: `pyproject.toml is unchanged. Remove one of them (\`comfydock node remove ${others[0] ?? packId}\`) or pick another version (\`comfydock node add ${packId}@<version>\`).`,
    cause: err,
  })
}

/**
 * Where a pack is prepared or set aside: in the environment, on the same filesystem as custom_nodes
 * (so the final move is a rename), but outside it, so ComfyUI never loads a half-made folder left by
 * an interrupted run.
 */
export async function stagingDir (env: EnvPaths, name: string, purpose: 'new' | 'old'): Promise<string> {
  const parent = join(env.root, '.comfydock-staging')
  await mkdir(parent, { recursive: true })
  return join(parent, `${name}.${purpose}`)
}

/** Moves a prepared pack into place; custom_nodes itself may be missing (trees without it, or deleted by hand). */
export async function moveIntoPlace (staging: string, dest: string): Promise<void> {
  await mkdir(dirname(dest), { recursive: true })
  await rename(staging, dest)
}
