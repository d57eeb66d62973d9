/**
 * @module What every node operation needs: the environment, the cached registry client, the cache
 * stores, and the Python step (conflict check, then sync) that names the packs a conflict is between.
 */
import { ComfydockError } from '../../errors'
import { safePathComponent } from '../../fs'
import type { Pyproject } from '../../manifest'
import type { OnProgress } from '../../protocol'
import { openPythonBackend, requirementName, restoreLock, snapshotLock } from '../../python'
import type { EnvPaths, Workspace } from '../../workspace'
import { packGroupName, packsRequiring } from '../pack-manifest'
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
 * (the caller restores pyproject.toml), so the environment is left as it was.
 */
export async function syncPythonFor (ctx: NodeContext, doc: Pyproject, packId: string, before: Pyproject): Promise<void> {
  if (ctx.opts.syncPython === false) return
  const backend = await openPythonBackend(ctx.ws, ctx.env)
  const snapshot = await snapshotLock(ctx.env)
  try {
    await backend.sync(doc, { onProgress: ctx.opts.onProgress, signal: ctx.opts.signal })
  } catch (err) {
    await restoreLock(ctx.env, snapshot)
    if (err instanceof ComfydockError && err.code === 'DEPENDENCY_CONFLICT') throw namePacks(err, doc, packId) ?? err
    if (snapshot.requirements) {
      // the install got under way: back to the last locked state (not cancellable: it is the way back)
      await backend.sync(before, { locked: true }).catch(restoreErr => ctx.warn(`could not put the venv back to its locked state: ${(restoreErr as Error).message}; run \`comfydock repair\``))
    }
    if (err instanceof ComfydockError) throw new ComfydockError(err.code, `${packId}: ${err.message}`, { hint: err.hint, cause: err })
    throw err
  }
}

/** One side of a dependency conflict: a pack (or ComfyUI itself) and its requirements the installer named. */
export interface ConflictSide {
  pack: string
  requirements: string[]
}

/**
 * A conflict between `packId` and the packs (or ComfyUI) whose requirements the installer named, with
 * the requirement on each side; undefined when the message names no other side. uv names the groups
 * themselves (`<project>:<group>`); pip quotes requirements, which are matched to the groups holding them.
 */
function namePacks (err: ComfydockError, doc: Pyproject, packId: string): ComfydockError | undefined {
  const text = err.message.toLowerCase().replace(/_/g, '-')
  const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const mentioned = (req: string): boolean => new RegExp(`(^|[^a-z0-9-])${escape(requirementName(req))}([^a-z0-9-]|$)`).test(text)
  const groupOf = (id: string): string[] => {
    const entry = doc.tool.comfydock.nodes?.[id]
    return entry ? doc['dependency-groups']?.[packGroupName(id, entry)] ?? [] : []
  }
  const side = (id: string, reqs: string[]): ConflictSide => ({ pack: id, requirements: reqs.filter(mentioned) })
  const byGroup = packsRequiring(doc, () => true).filter(id => {
    const entry = doc.tool.comfydock.nodes![id]
    return text.includes(`:${packGroupName(id, entry)}`)
  })
  const others = [...new Set([...byGroup, ...packsRequiring(doc, mentioned)])].filter(id => id !== packId)
  const sides = others.map(id => side(id, groupOf(id)))
  if (doc.project.dependencies.some(mentioned)) sides.push(side('ComfyUI', doc.project.dependencies))
  if (sides.length === 0) return undefined
  const ours = side(packId, groupOf(packId))
  const describe = (s: ConflictSide): string => `${s.pack}${s.requirements.length ? ` (${s.requirements.join(', ')})` : ''}`
  const other = sides.find(s => s.pack !== 'ComfyUI')?.pack
  const choices = [
    `skip ${packId}: nothing changes (this is what happened)`,
    ...(other ? [`keep ${packId} instead of ${other}: \`comfydock node remove ${other}\`, then add ${packId} again`] : []),
    `allow both with a constraint that settles the version: \`comfydock node add ${packId} --override "<requirement>"\` (recorded in [tool.uv] override-dependencies)`,
  ]
  return new ComfydockError('DEPENDENCY_CONFLICT', `${describe(ours)} conflicts with ${sides.map(describe).join(', ')}:\n${err.message}`, {
    hint: `pyproject.toml, the lock and the venv are unchanged. Choices:\n  - ${choices.join('\n  - ')}`,
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
  return join(parent, `${safePathComponent(name, 'pack folder')}.${purpose}`)
}

/** Moves a prepared pack into place; custom_nodes itself may be missing (trees without it, or deleted by hand). */
export async function moveIntoPlace (staging: string, dest: string): Promise<void> {
  await mkdir(dirname(dest), { recursive: true })
  await rename(staging, dest)
}
