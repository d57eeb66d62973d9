/** @module `node search`: registry packs by text, or the packs that provide a node class. */
import type { Workspace } from '../../workspace'
import { openRegistry, type RegistryNode } from '../registry'
import type { NodeOperationOptions } from './node-context'

export interface FoundPack {
  id: string
  name?: string
  latestVersion?: string
  repository?: string
  downloads?: number
}

export interface PackSearch {
  packs: FoundPack[]
  /** The registry was unreachable and the answer came from the cache. */
  stale: boolean
}

const toFound = (n: RegistryNode): FoundPack => ({ id: n.id!, name: n.name, latestVersion: n.latest_version?.version, repository: n.repository, downloads: n.downloads })

export async function searchPacks (ws: Workspace, text: string, opts: NodeOperationOptions & { byClass?: boolean, limit?: number } = {}): Promise<PackSearch> {
  const registry = openRegistry(ws, { signal: opts.signal })
  const found: RegistryNode[] = []
  if (opts.byClass) {
    const ranked = await registry.nodeForClass(text)
    if (ranked) found.push(ranked)
    found.push(...await registry.searchByClass(text, opts.limit))
  } else {
    found.push(...await registry.search(text, opts.limit))
  }
  const seen = new Set<string>()
  const packs = found.filter(n => n.id && !seen.has(n.id) && seen.add(n.id)).map(toFound)
  return { packs, stale: registry.servedStale }
}
