/**
 * @module `node update ID[@version|@ref]`: registry packs go to the latest (or given) version, git packs
 * to the current commit of their ref (or a given ref), development nodes get their requirements
 * re-scanned. Atomic: the old folder is moved aside and put back, and pyproject.toml restored, on any failure.
 */
import { rename, rm } from 'node:fs/promises'
import { ComfydockError } from '../../errors'
import { pathExists } from '../../fs'
import { readManifest, withManifestTransaction, writeManifest, type NodeEntry } from '../../manifest'
import { withTask } from '../../progress'
import { packDir, type EnvPaths, type Workspace } from '../../workspace'
import { assertNoLocalWork } from '../local-work'
import { requirePackId, setPack, trackedPacks } from '../pack-manifest'
import { scanRequirements } from '../scan-requirements'
import { scanPackClasses } from '../node-classes'
import { materializePin, resolveSpec, toNodeEntry, type PinnedNode } from '../sources'
import type { NodeItemResult } from './add-nodes'
import { moveIntoPlace, openNodeContext, stagingDir, syncPythonFor, type NodeContext, type NodeOperationOptions } from './node-context'

export interface UpdateResult extends NodeItemResult {
  from: string
  to: string
  changed: boolean
}

function splitTarget (query: string): [string, string | undefined] {
  const at = query.lastIndexOf('@')
  return at > 0 && at > query.lastIndexOf('/') ? [query.slice(0, at), query.slice(at + 1)] : [query, undefined]
}

async function newPin (ctx: NodeContext, id: string, entry: NodeEntry, target?: string): Promise<PinnedNode> {
  const rctx = { env: ctx.env, registry: ctx.registry, git: ctx.stores.git, warn: (m: string) => ctx.warn(m) }
  if (entry.source === 'registry') return resolveSpec({ kind: 'registry', id: entry.registry_id ?? id, version: target }, rctx)
  if (entry.source === 'git') {
    if (!entry.repository) throw new ComfydockError('MANIFEST_INVALID', `git pack ${id} has no repository in pyproject.toml`, { hint: `Re-add it: \`comfydock node remove ${id}\` then \`comfydock node add <git-url>\`.` })
    const pin = await resolveSpec({ kind: 'git', url: entry.repository, ref: target ?? entry.ref }, rctx)
    return pin.kind === 'git' ? { ...pin, name: entry.name, registryId: entry.registry_id } : pin
  }
  return { kind: 'dev', name: entry.name }
}

export async function updateNode (ws: Workspace, env: EnvPaths, query: string, opts: NodeOperationOptions = {}): Promise<UpdateResult> {
  const ctx = openNodeContext(ws, env, opts, true)
  const [name, target] = splitTarget(query)
  const doc = await readManifest(env.pyproject)
  const id = requirePackId(doc, name)
  const old = trackedPacks(doc)[id]
  const pin = await newPin(ctx, id, old, target)
  const entry = toNodeEntry(pin)
  const dest = packDir(env, old.name)
  if (pin.kind !== 'dev' && entry.version === old.version && await pathExists(dest)) {
    return { spec: query, ok: true, id, entry: old, from: old.version, to: old.version, changed: false, warnings: ctx.warnings }
  }
  if (pin.kind === 'dev' && !(await pathExists(dest))) {
    throw new ComfydockError('NODE_NOT_FOUND', `development node ${id} is not in ${env.customNodes}`, { hint: `Put its folder back at ${dest}, or stop tracking it with \`comfydock node remove ${id}\`.` })
  }
  if (pin.kind !== 'dev' && await pathExists(dest)) {
    await assertNoLocalWork(dest, ctx.stores.git, old.repository, 'replacing',
      `Commit and push your changes to ${old.repository ?? 'the repository'} first, or track your copy as your own: \`comfydock node remove ${id} --force\` then \`comfydock node add --dev ${old.name}\`.`)
  }
  const staging = await stagingDir(env, old.name, 'new')
  const aside = await stagingDir(env, old.name, 'old')
  await rm(staging, { recursive: true, force: true })
  await rm(aside, { recursive: true, force: true })
  return withTask(opts.onProgress, `update ${id}`, {}, async () => {
    try {
      const mat = pin.kind === 'dev' ? { cached: undefined, sha256: undefined } : await materializePin(pin, staging, ctx.stores, opts)
      if (mat.sha256) entry.sha256 = mat.sha256
      const classes = await scanPackClasses(pin.kind === 'dev' ? dest : staging)
      if (classes.length) entry.node_classes = classes
      const reqs = await scanRequirements(pin.kind === 'dev' ? dest : staging)
      for (const s of reqs.skipped) ctx.warn(`${id}: requirement line not installed: ${s}`)
      await withManifestTransaction(env.pyproject, async d => {
        setPack(d, id, entry, reqs.requirements)
        await writeManifest(env.pyproject, d)
        let moved = false
        try {
          if (pin.kind !== 'dev') {
            if (await pathExists(dest)) { await rename(dest, aside); moved = true }
            await moveIntoPlace(staging, dest)
          }
          await syncPythonFor(ctx, d, id, doc)
        } catch (err) {
          if (moved) {
            await rm(dest, { recursive: true, force: true })
            await rename(aside, dest)
          }
          throw err
        }
      })
      return { spec: query, ok: true, id, entry, from: old.version, to: entry.version, changed: entry.version !== old.version || pin.kind === 'dev', cached: mat.cached, requirements: reqs.requirements, warnings: ctx.warnings }
    } finally {
      await rm(staging, { recursive: true, force: true })
      await rm(aside, { recursive: true, force: true })
    }
  })
}
