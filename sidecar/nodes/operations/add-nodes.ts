/**
 * @module `node add`: each spec is resolved to a pin, fetched (cache first) into a staging folder,
 * recorded with its dependency group, moved into custom_nodes and its Python requirements installed.
 * Each spec is its own transaction: a failure restores pyproject.toml and removes the folder, and the
 * next spec still runs. A dependency conflict changes nothing; the caller's conflict policy then picks
 * skip (the default), replace (the other packs are removed first) or override (the versions settled).
 */
import { rm } from 'node:fs/promises'
import { ComfydockError, toErrorPayload } from '../../errors'
import { pathExists } from '../../fs'
import { readManifest, withManifestTransaction, writeManifest, type NodeEntry, type Pyproject } from '../../manifest'
import { openPythonBackend, requirementName } from '../../python'
import type { ErrorPayload } from '../../protocol'
import { withTask } from '../../progress'
import { packDir, type EnvPaths, type Workspace } from '../../workspace'
import { findPackId, removePack, setPack } from '../pack-manifest'
import { withNodeClasses } from '../node-classes'
import { clearAddJournal, noteAddWritten, recoverInterruptedAdd, writeAddJournal } from './add-journal'
import { scanArchiveRequirements, scanRequirements, type PackRequirements } from '../scan-requirements'
import { localGitUrl, materializePin, openRegistryArchive, pinnedId, resolveSpec, toNodeEntry, type PinnedNode } from '../sources'
import { parseNodeSpec } from '../spec'
import { moveIntoPlace, openNodeContext, stagingDir, syncPythonFor, type NodeContext, type NodeOperationOptions } from './node-context'
import { packConflict, PackConflictError, type ConflictDecision, type DependencyConflict } from './pack-conflict'
import { removeNodes } from './remove-nodes'

export interface NodeItemResult {
  spec: string
  ok: boolean
  id?: string
  entry?: NodeEntry
  /** The archive or clone came from the workspace cache. */
  cached?: boolean
  requirements?: string[]
  warnings?: string[]
  error?: ErrorPayload
  /** The dependency conflict this pack met, and the choice taken (skip: the pack was not added). */
  conflict?: DependencyConflict & { chosen: ConflictDecision['kind'] }
  /** Packs removed to make room for this one (the replace choice). */
  removed?: string[]
}

/** Per conflict: a fixed decision (`--on-conflict`), or a question (the CLI's prompt on a TTY). */
export type ConflictPolicy = ConflictDecision | ((conflict: DependencyConflict) => Promise<ConflictDecision>)

export interface AddNodesOptions extends NodeOperationOptions {
  /** Specs are folder names (or paths) of the user's own nodes in custom_nodes. */
  dev?: boolean
  /**
   * Requirements that replace every other requirement on their package (uv's override-dependencies):
   * the user's way through a conflict between packs. Recorded in the manifest with the pack.
   */
  overrides?: string[]
  /** What to do when a pack conflicts with the environment; without one, the pack is skipped. */
  onConflict?: ConflictPolicy
}

export interface BatchResult {
  results: NodeItemResult[]
  ok: boolean
  /** Lines to show: offline answers, skipped requirement options, install scripts not run. */
  warnings: string[]
}

/** Adds `overrides` to `[tool.uv] override-dependencies`, replacing any on the same packages. */
function addOverrides (doc: Pyproject, overrides: string[]): void {
  if (overrides.length === 0) return
  for (const o of overrides) parseRequirementOrThrow(o)
  const names = new Set(overrides.map(requirementName))
  const uv = { ...(doc.tool.uv ?? {}) } as Record<string, unknown>
  const kept = (Array.isArray(uv['override-dependencies']) ? uv['override-dependencies'] as string[] : []).filter(o => !names.has(requirementName(o)))
  uv['override-dependencies'] = [...kept, ...overrides]
  doc.tool.uv = uv
}

function parseRequirementOrThrow (req: string): void {
  if (!/^\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*([<>=!~]=?[^;]*)?(;.*)?$/.test(req) || req.trim().startsWith('-')) {
    throw new ComfydockError('INVALID_ARGUMENT', `"${req}" is not a requirement`, { hint: 'Write it as a package with a version, e.g. `--override "numpy<2"`.' })
  }
}

async function addOne (ctx: NodeContext, spec: string, dev: boolean, overrides: string[]): Promise<NodeItemResult> {
  const parsed = parseNodeSpec(spec, { dev })
  // A local repository the user typed is theirs to trust; recorded so `node update` and `repair` may read it later.
  if (parsed.kind === 'git') await ctx.ws.trustLocalSource(localGitUrl(parsed.url))
  const pin = await resolveSpec(parsed, { env: ctx.env, registry: ctx.registry, git: ctx.stores.git, warn: m => ctx.warn(m) })
  const id = pinnedId(pin)
  const before = await readManifest(ctx.env.pyproject)
  const existing = findPackId(before, id) ?? findPackId(before, pin.name)
  if (existing) {
    throw new ComfydockError('NODE_ALREADY_TRACKED', `${existing} is already tracked (${before.tool.comfydock.nodes![existing].version})`, {
      hint: `Run \`comfydock node update ${existing}\` to change its version.`,
    })
  }
  const dest = packDir(ctx.env, pin.name)
  if (pin.kind !== 'dev' && await pathExists(dest)) {
    throw new ComfydockError('NODE_INSTALL_FAILED', `${dest} already exists and is not tracked`, {
      hint: `Track it as your own node with \`comfydock node add --dev ${pin.name}\`, or move it away first.`,
    })
  }
  const staging = await stagingDir(ctx.env, pin.name, 'new')
  await rm(staging, { recursive: true, force: true })
  // a registry archive is extracted while the installer runs: its requirements are read from the archive
  let extracted: Promise<void> | undefined
  try {
    const folder = pin.kind === 'dev' ? dest : staging
    let mat: { cached?: boolean, sha256?: string } = { cached: undefined, sha256: undefined }
    let reqs: PackRequirements
    if (pin.kind === 'registry') {
      const opened = await openRegistryArchive(pin, staging, ctx.stores, ctx.opts)
      mat = opened
      const early = await scanArchiveRequirements(opened.zip).catch(err => { opened.zip.close(); throw err })
      extracted = opened.extract()
      extracted.catch(() => undefined) // its failure is told by the step that awaits it
      reqs = early ?? await extracted.then(() => scanRequirements(staging))
    } else {
      if (pin.kind !== 'dev') mat = await materializePin(pin, staging, ctx.stores, ctx.opts)
      reqs = await scanRequirements(folder)
    }
    for (const s of reqs.skipped) ctx.warn(`${id}: requirement line not installed: ${s}`)
    if (reqs.hasInstallScript) ctx.warn(`${id}: has an install.py, which comfydock does not run`)
    // the node classes go into the manifest entry only; the installer needs the requirements alone
    const entryWithClasses = (async () => { await extracted; return packEntry(ctx, pin, mat.sha256, folder) })()
    entryWithClasses.catch(() => undefined) // its failure is told by the step that awaits it
    let entry = toNodeEntry(pin, mat.sha256)
    await withManifestTransaction(ctx.env.pyproject, async doc => {
      addOverrides(doc, overrides)
      const forInstaller = structuredClone(doc)
      setPack(forInstaller, id, entry, reqs.requirements)
      // The installer resolves (it changes only the venv until then) while the journal and pyproject.toml
      // are written and the pack is moved into place; it writes the lock once the manifest is on disk,
      // and a failure on either side undoes both.
      const placed = (async () => {
        await writeAddJournal(ctx.env, id, pin.name, pin.kind !== 'dev')
        entry = await entryWithClasses
        setPack(doc, id, entry, reqs.requirements)
        await writeManifest(ctx.env.pyproject, doc)
        await noteAddWritten(ctx.env)
        if (pin.kind !== 'dev') await moveIntoPlace(staging, dest)
      })()
      const [python, place] = await Promise.allSettled([syncPythonFor(ctx, forInstaller, id, before, placed), placed])
      if (python.status === 'rejected' || place.status === 'rejected') {
        if (pin.kind !== 'dev') await rm(dest, { recursive: true, force: true })
        throw python.status === 'rejected' ? python.reason : (place as PromiseRejectedResult).reason
      }
    })
    return { spec, ok: true, id, entry, cached: mat.cached, requirements: reqs.requirements }
  } finally {
    await extracted?.catch(() => undefined)
    await rm(staging, { recursive: true, force: true })
    await clearAddJournal(ctx.env)
  }
}

/**
 * The pack's manifest entry with its node classes: read from its source, else (the v3 node API names
 * them some other way) the registry's answer, asked while the installer resolves.
 */
async function packEntry (ctx: NodeContext, pin: PinnedNode, sha256: string | undefined, folder: string): Promise<NodeEntry> {
  const entry = await withNodeClasses(toNodeEntry(pin, sha256), folder)
  if (!entry.node_classes && pin.kind === 'registry') {
    const classes = await ctx.registry.versionClasses(pin.id, pin.version).catch(() => [])
    const names = [...new Set(classes.map(c => c.comfy_node_name).filter((n): n is string => Boolean(n)))].sort()
    if (names.length) entry.node_classes = names
  }
  return entry
}

export async function addNodes (ws: Workspace, env: EnvPaths, specs: string[], opts: AddNodesOptions = {}): Promise<BatchResult> {
  const ctx = openNodeContext(ws, env, opts)
  const undone = await recoverInterruptedAdd(env)
  if (undone) ctx.warn(undone)
  const results: NodeItemResult[] = []
  for (const spec of specs) {
    const start = ctx.warnings.length
    try {
      const r = await withTask(opts.onProgress, `add ${spec}`, {}, () => addChoosing(ctx, spec, opts))
      results.push({ ...r, warnings: ctx.warnings.slice(start) })
    } catch (err) {
      if (err instanceof ComfydockError && err.code === 'CANCELLED') throw err
      const conflict = err instanceof PackConflictError ? { ...err.conflict, chosen: 'skip' as const } : undefined
      results.push({ spec, ok: false, error: toErrorPayload(err), ...(conflict ? { conflict } : {}), warnings: ctx.warnings.slice(start) })
    }
  }
  return { results, ok: results.every(r => r.ok), warnings: ctx.warnings }
}

/**
 * Adds one spec; on a dependency conflict (nothing has changed) applies the policy's decision once:
 * skip re-raises it; override adds the pack again with the settling requirements; replace first checks
 * that the environment resolves without the other packs and with this one, then removes them and adds it.
 * A conflict that remains after the choice is reported as it is.
 */
async function addChoosing (ctx: NodeContext, spec: string, opts: AddNodesOptions): Promise<NodeItemResult> {
  const dev = Boolean(opts.dev)
  const overrides = opts.overrides ?? []
  try {
    return await addOne(ctx, spec, dev, overrides)
  } catch (err) {
    if (!(err instanceof PackConflictError) || !opts.onConflict) throw err
    const decision = typeof opts.onConflict === 'function' ? await opts.onConflict(err.conflict) : opts.onConflict
    if (decision.kind === 'skip') throw err
    if (decision.kind === 'override') {
      const settle = decision.requirements.length ? decision.requirements : err.conflict.choices.find(c => c.kind === 'override')?.requirements ?? []
      if (settle.length === 0) {
        throw new ComfydockError('INVALID_ARGUMENT', `${err.conflict.pack}: no override requirement to suggest for this conflict`, {
          hint: `Name one: \`comfydock node add ${spec} --on-conflict override="<package><version>"\`.`, cause: err,
        })
      }
      const r = await addOne(ctx, spec, dev, [...overrides, ...settle])
      return { ...r, conflict: { ...err.conflict, chosen: 'override' } }
    }
    const replace = err.conflict.choices.find(c => c.kind === 'replace')
    if (!replace || replace.kind !== 'replace') {
      throw new ComfydockError('INVALID_ARGUMENT', `${err.conflict.pack} conflicts with ${err.conflict.with.map(s => s.name).join(', ')}, which cannot be removed; nothing changed`, {
        hint: err.hint, cause: err,
      })
    }
    await resolvesWithout(ctx, err, replace.remove, overrides)
    const removed = await removeNodes(ctx.ws, ctx.env, replace.remove, { onProgress: ctx.opts.onProgress, signal: ctx.opts.signal })
    const failed = removed.results.find(r => !r.ok)
    const gone = removed.results.filter(r => r.ok).map(r => r.id!)
    if (failed) {
      return { spec, ok: false, error: { code: failed.error!.code, message: `could not remove ${failed.spec} to make room for ${err.conflict.pack}: ${failed.error!.message}`, hint: failed.error!.hint }, removed: gone, conflict: { ...err.conflict, chosen: 'replace' } }
    }
    try {
      const r = await addOne(ctx, spec, dev, overrides)
      return { ...r, removed: gone, conflict: { ...err.conflict, chosen: 'replace' } }
    } catch (addErr) {
      if (addErr instanceof ComfydockError && addErr.code === 'CANCELLED') throw addErr
      return { spec, ok: false, error: toErrorPayload(addErr), removed: gone, conflict: { ...err.conflict, chosen: 'replace' } }
    }
  }
}

/** Resolves the environment without `remove` and with the pack (nothing installed); throws the conflict that would remain. */
async function resolvesWithout (ctx: NodeContext, err: PackConflictError, remove: string[], overrides: string[]): Promise<void> {
  const doc = await readManifest(ctx.env.pyproject)
  for (const id of remove) removePack(doc, id)
  setPack(doc, err.conflict.pack, err.candidate.entry, err.candidate.requirements)
  addOverrides(doc, overrides)
  try {
    await (await openPythonBackend(ctx.ws, ctx.env)).check(doc)
  } catch (checkErr) {
    if (checkErr instanceof ComfydockError && checkErr.code === 'DEPENDENCY_CONFLICT') {
      throw packConflict(checkErr, doc, err.conflict.pack) ?? new ComfydockError('DEPENDENCY_CONFLICT', `${err.conflict.pack} would still conflict without ${remove.join(', ')}; nothing changed:\n${checkErr.message}`, { hint: checkErr.hint, cause: checkErr })
    }
    throw checkErr
  }
}

