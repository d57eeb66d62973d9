/**
 * @module `node prune`: packs that no tracked workflow needs: neither named in its entry
 * (`[tool.comfydock.workflows.*].nodes`) nor providing a node type it uses (the pack's classes, known
 * offline; a workflow committed before its pack was recognised still keeps the pack).
 * The plan is computed first; removal happens only after `confirm` agrees. Development nodes are the
 * user's own work and are never pruned.
 */
import { readManifest } from '../../manifest'
import type { EnvPaths, Workspace } from '../../workspace'
import { readSnapshot, readUserWorkflow } from '../../workflows/store'
import { packClasses } from '../node-classes'
import { findPackId, trackedPacks } from '../pack-manifest'
import { removeNodes, type RemovedNode } from './remove-nodes'
import type { NodeOperationOptions } from './node-context'

export interface PrunePlan {
  remove: string[]
  keep: string[]
}

export interface PruneOptions extends NodeOperationOptions {
  exclude?: string[]
  /** Shown the plan; removal happens only on true. */
  confirm?: (plan: PrunePlan) => Promise<boolean>
}

export async function planPrune (env: EnvPaths, exclude: string[] = []): Promise<PrunePlan> {
  const doc = await readManifest(env.pyproject)
  const needed = new Set<string>()
  for (const wf of Object.values(doc.tool.comfydock.workflows ?? {})) {
    for (const ref of wf.nodes ?? []) {
      const id = findPackId(doc, ref)
      if (id) needed.add(id)
    }
  }
  const used = await usedNodeTypes(env, Object.keys(doc.tool.comfydock.workflows ?? {}))
  for (const [id, classes] of await packClasses(env, doc)) {
    if (classes.some(c => used.has(c))) needed.add(id)
  }
  for (const ex of exclude) {
    const id = findPackId(doc, ex)
    if (id) needed.add(id)
  }
  const plan: PrunePlan = { remove: [], keep: [] }
  for (const [id, entry] of Object.entries(trackedPacks(doc))) {
    if (needed.has(id) || entry.source === 'development') plan.keep.push(id)
    else plan.remove.push(id)
  }
  return plan
}

/** Every node type in the tracked workflows' committed and current copies (subgraphs included). */
async function usedNodeTypes (env: EnvPaths, names: string[]): Promise<Set<string>> {
  const types = new Set<string>()
  const walk = (v: unknown, inNodes: boolean): void => {
    if (Array.isArray(v)) { for (const x of v) walk(x, inNodes); return }
    if (!v || typeof v !== 'object') return
    const o = v as Record<string, unknown>
    if (inNodes && typeof o.type === 'string') types.add(o.type)
    for (const [k, x] of Object.entries(o)) if (x && typeof x === 'object') walk(x, k === 'nodes')
  }
  for (const name of names) {
    for (const bytes of [await readSnapshot(env, name).catch(() => undefined), await readUserWorkflow(env, name).catch(() => undefined)]) {
      if (!bytes) continue
      try { walk(JSON.parse(bytes.toString('utf8')), false) } catch { /* not JSON: it names no node */ }
    }
  }
  return types
}

export async function pruneNodes (ws: Workspace, env: EnvPaths, opts: PruneOptions = {}): Promise<{ plan: PrunePlan, removed: RemovedNode[], confirmed: boolean }> {
  const plan = await planPrune(env, opts.exclude)
  if (plan.remove.length === 0) return { plan, removed: [], confirmed: true }
  const confirmed = opts.confirm ? await opts.confirm(plan) : false
  if (!confirmed) return { plan, removed: [], confirmed }
  return { plan, removed: (await removeNodes(ws, env, plan.remove, opts)).results, confirmed }
}
