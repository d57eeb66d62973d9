/**
 * @module `node prune`: packs that no tracked workflow needs (`[tool.comfydock.workflows.*].nodes`).
 * The plan is computed first; removal happens only after `confirm` agrees. Development nodes are the
 * user's own work and are never pruned.
 */
import { readManifest } from '../../manifest'
import type { EnvPaths, Workspace } from '../../workspace'
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

export async function pruneNodes (ws: Workspace, env: EnvPaths, opts: PruneOptions = {}): Promise<{ plan: PrunePlan, removed: RemovedNode[], confirmed: boolean }> {
  const plan = await planPrune(env, opts.exclude)
  if (plan.remove.length === 0) return { plan, removed: [], confirmed: true }
  const confirmed = opts.confirm ? await opts.confirm(plan) : false
  if (!confirmed) return { plan, removed: [], confirmed }
  return { plan, removed: (await removeNodes(ws, env, plan.remove, opts)).results, confirmed }
}
