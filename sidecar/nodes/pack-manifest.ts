/**
 * @module Pack entries in pyproject.toml: `[tool.comfydock.nodes.<id>]` plus the pack's own
 * dependency group. Pure edits of a parsed document; callers write it inside a manifest transaction.
 */
import { ComfydockError } from '../errors'
import type { NodeEntry, Pyproject } from '../manifest'
import { dependencyGroupName } from './dependency-group'
import { normalizeRepository } from './resolver/installed-packs'

export function packGroupName (id: string, entry: NodeEntry): string {
  return dependencyGroupName(entry.name, entry.repository ?? id)
}

export function trackedPacks (doc: Pyproject): Record<string, NodeEntry> {
  return doc.tool.comfydock.nodes ?? {}
}

/** The manifest key a user's word refers to: the key, registry id, folder name or repository URL. */
export function findPackId (doc: Pyproject, query: string): string | undefined {
  const nodes = trackedPacks(doc)
  if (nodes[query]) return query
  const q = query.toLowerCase().replace(/@.*$/, '')
  const repo = normalizeRepository(query)
  return Object.keys(nodes).find(id => {
    const e = nodes[id]
    return id.toLowerCase() === q || e.registry_id?.toLowerCase() === q || e.name.toLowerCase() === q ||
      (e.repository !== undefined && normalizeRepository(e.repository) === repo)
  })
}

export function requirePackId (doc: Pyproject, query: string): string {
  const id = findPackId(doc, query)
  if (!id) {
    const known = Object.keys(trackedPacks(doc))
    throw new ComfydockError('NODE_NOT_TRACKED', `"${query}" is not a tracked node pack${known.length ? ` (tracked: ${known.join(', ')})` : ''}`, {
      hint: `Run \`comfydock node list\`, or \`comfydock node add ${query}\`.`,
    })
  }
  return id
}

/** Records the pack and replaces its dependency group (dropped when it has no requirements). */
export function setPack (doc: Pyproject, id: string, entry: NodeEntry, requirements: string[]): void {
  const previous = trackedPacks(doc)[id]
  if (previous) removePack(doc, id)
  doc.tool.comfydock.nodes = { ...trackedPacks(doc), [id]: entry }
  if (requirements.length > 0) doc['dependency-groups'] = { ...(doc['dependency-groups'] ?? {}), [packGroupName(id, entry)]: requirements }
}

export function removePack (doc: Pyproject, id: string): NodeEntry | undefined {
  const nodes = { ...trackedPacks(doc) }
  const entry = nodes[id]
  if (!entry) return undefined
  delete nodes[id]
  doc.tool.comfydock.nodes = nodes
  const groups = { ...(doc['dependency-groups'] ?? {}) }
  delete groups[packGroupName(id, entry)]
  doc['dependency-groups'] = groups
  return entry
}

/** Which packs' groups mention any of these package names (for conflict messages). */
export function packsRequiring (doc: Pyproject, mentions: (req: string) => boolean): string[] {
  const out: string[] = []
  for (const [id, entry] of Object.entries(trackedPacks(doc))) {
    const group = doc['dependency-groups']?.[packGroupName(id, entry)] ?? []
    if (group.some(mentions)) out.push(id)
  }
  return out
}
