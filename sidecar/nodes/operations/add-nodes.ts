/**
 * @module `node add`: each spec is resolved to a pin, fetched (cache first) into a staging folder,
 * recorded with its dependency group, moved into custom_nodes and its Python requirements installed.
 * Each spec is its own transaction: a failure restores pyproject.toml and removes the folder, and the
 * next spec still runs.
 */
import { rm } from 'node:fs/promises'
import { ComfydockError, toErrorPayload } from '../../errors'
import { pathExists } from '../../fs'
import { readManifest, withManifestTransaction, writeManifest, type NodeEntry, type Pyproject } from '../../manifest'
import { requirementName } from '../../python'
import type { ErrorPayload } from '../../protocol'
import { withTask } from '../../progress'
import { packDir, type EnvPaths, type Workspace } from '../../workspace'
import { findPackId, setPack } from '../pack-manifest'
import { scanRequirements } from '../scan-requirements'
import { localGitUrl, materializePin, pinnedId, resolveSpec, toNodeEntry } from '../sources'
import { parseNodeSpec } from '../spec'
import { moveIntoPlace, openNodeContext, stagingDir, syncPythonFor, type NodeContext, type NodeOperationOptions } from './node-context'

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
}

export interface AddNodesOptions extends NodeOperationOptions {
  /** Specs are folder names (or paths) of the user's own nodes in custom_nodes. */
  dev?: boolean
  /**
   * Requirements that replace every other requirement on their package (uv's override-dependencies):
   * the user's way through a conflict between packs. Recorded in the manifest with the pack.
   */
  overrides?: string[]
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
  try {
    const mat = pin.kind === 'dev' ? { cached: undefined, sha256: undefined } : await materializePin(pin, staging, ctx.stores, ctx.opts)
    const reqs = await scanRequirements(pin.kind === 'dev' ? dest : staging)
    for (const s of reqs.skipped) ctx.warn(`${id}: requirement line not installed: ${s}`)
    if (reqs.hasInstallScript) ctx.warn(`${id}: has an install.py, which comfydock does not run`)
    const entry = toNodeEntry(pin, mat.sha256)
    await withManifestTransaction(ctx.env.pyproject, async doc => {
      setPack(doc, id, entry, reqs.requirements)
      addOverrides(doc, overrides)
      await writeManifest(ctx.env.pyproject, doc)
      if (pin.kind !== 'dev') await moveIntoPlace(staging, dest)
      try {
        await syncPythonFor(ctx, doc, id, before)
      } catch (err) {
        if (pin.kind !== 'dev') await rm(dest, { recursive: true, force: true })
        throw err
      }
    })
    return { spec, ok: true, id, entry, cached: mat.cached, requirements: reqs.requirements }
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
}

export async function addNodes (ws: Workspace, env: EnvPaths, specs: string[], opts: AddNodesOptions = {}): Promise<BatchResult> {
  const ctx = openNodeContext(ws, env, opts)
  const results: NodeItemResult[] = []
  for (const spec of specs) {
    const start = ctx.warnings.length
    try {
      const r = await withTask(opts.onProgress, `add ${spec}`, {}, () => addOne(ctx, spec, Boolean(opts.dev), opts.overrides ?? []))
      results.push({ ...r, warnings: ctx.warnings.slice(start) })
    } catch (err) {
      if (err instanceof ComfydockError && err.code === 'CANCELLED') throw err
      results.push({ spec, ok: false, error: toErrorPayload(err), warnings: ctx.warnings.slice(start) })
    }
  }
  return { results, ok: results.every(r => r.ok), warnings: ctx.warnings }
}

