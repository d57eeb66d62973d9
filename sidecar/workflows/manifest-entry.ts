/** @module A workflow's resolution as pyproject data: its `[tool.comfydock.workflows.<name>]` entry and global model rows. */
import type { ModelEntry, WorkflowEntry, WorkflowModelEntry } from '../manifest'
import { markUnverified, modelCategory, type ModelIndex } from '../models'
import type { WorkflowResolution } from './resolve'
import type { ModelResolution } from './resolve-models'

function modelEntry (m: ModelResolution, previous?: WorkflowModelEntry): WorkflowModelEntry {
  const e: WorkflowModelEntry = {
    filename: m.filename,
    // a custom loader names no folder: the file's own folder (a core or a pack's one) is its category
    category: m.folder ?? (m.relative_path ? modelCategory(m.relative_path) : null) ?? 'unknown',
    criticality: m.criticality,
    status: m.status === 'resolved' ? 'resolved' : 'unresolved',
    nodes: m.refs.map(r => ({ node_id: r.node_id, node_type: r.node_type, widget_idx: r.widget_idx ?? -1, widget_value: r.widget_value })),
  }
  if (m.status === 'resolved') e.hash = m.hash
  else {
    const sources = [...new Set([...(m.download ? [m.download.url] : []), ...(previous?.sources ?? [])])]
    if (sources.length) e.sources = sources
    if (m.download) e.relative_path = m.download.relative_path
  }
  return e
}

export function workflowEntry (name: string, r: WorkflowResolution, previous?: WorkflowEntry): WorkflowEntry {
  const packs = [...new Set(r.nodes.filter(n => n.status === 'resolved' && n.pack).map(n => n.pack!))].sort()
  const entry: WorkflowEntry = { ...previous, path: `workflows/${name}.json`, nodes: packs }
  entry.models = r.models.map(m => modelEntry(m, previous?.models?.find(p => p.filename === m.filename)))
  if (entry.models.length === 0) delete entry.models
  return entry
}

/**
 * Drops global entries no workflow uses any more, as the original tool does on commit, so an import
 * does not fetch models nothing needs. Entries with a criticality of their own were added with
 * `model add` for the environment itself, not for a workflow, and stay.
 */
export function pruneUnusedModels (models: Record<string, ModelEntry>, workflows: Record<string, WorkflowEntry>): Record<string, ModelEntry> {
  const used = new Set(Object.values(workflows).flatMap(w => (w.models ?? []).map(m => m.hash)))
  return Object.fromEntries(Object.entries(models).filter(([hash, m]) => used.has(hash) || m.criticality !== undefined))
}

/** Adds every resolved model to the global table with what the index knows (size, path, hashes, sources). */
export function mergeGlobalModels (index: ModelIndex, table: Record<string, ModelEntry>, resolutions: Iterable<WorkflowResolution>): Record<string, ModelEntry> {
  const models = { ...table }
  for (const r of resolutions) {
    for (const m of r.models) {
      if (m.status !== 'resolved' || !m.hash) continue
      const indexed = index.get(m.hash)
      const prev = models[m.hash]
      const sources = [...new Set([...(prev?.sources ?? []), ...(indexed?.sources.map(s => s.url) ?? []), ...(m.declared_url ? [m.declared_url] : [])])]
      const entry: ModelEntry = { ...prev, filename: m.filename, size: indexed?.size ?? m.size ?? 0, relative_path: m.relative_path, category: m.folder ?? modelCategory(m.relative_path ?? '') ?? prev?.category ?? 'unknown' }
      if (indexed?.blake3) entry.blake3 = indexed.blake3
      if (indexed?.sha256) entry.sha256 = indexed.sha256
      if (sources.length) entry.sources = sources
      models[m.hash] = indexed ? markUnverified(entry, indexed) : entry
    }
  }
  return models
}
