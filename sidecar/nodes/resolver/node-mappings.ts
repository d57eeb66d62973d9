/**
 * @module The original tool's public node_mappings.json (node class signature -> ranked packs), fetched
 * from a configurable URL at run time and cached with the registry answers (24 h, stale when offline).
 */
import { cachedGetJson } from '../registry/cached-get'
import type { ResponseCache } from '../registry/response-cache'

export interface MappingEntry {
  package_id: string
  versions?: string[]
  rank?: number
  source?: string
}

export interface NodeMappingsFile {
  version?: string
  package_aliases?: Record<string, string>
  mappings?: Record<string, MappingEntry[]>
  packages?: Record<string, { display_name?: string, repository?: string, [key: string]: unknown }>
}

export interface NodeMappings {
  /** Ranked entries for a key (`Type::sig8` or `Type::_`), aliases applied. */
  lookup (key: string): MappingEntry[]
  repository (packageId: string): string | undefined
  stale: boolean
}

export const MAPPINGS_TTL_MS = 24 * 60 * 60 * 1000

export async function loadNodeMappings (url: string, cache: ResponseCache, opts: { fetch?: typeof globalThis.fetch, signal?: AbortSignal } = {}): Promise<NodeMappings> {
  const res = await cachedGetJson<NodeMappingsFile>(url, { cache, ttlMs: MAPPINGS_TTL_MS, service: 'the node mappings source', timeoutMs: 60_000, ...opts })
  const file = res.data ?? {}
  const aliases = file.package_aliases ?? {}
  return {
    stale: res.origin === 'stale',
    lookup (key) {
      const entries = file.mappings?.[key] ?? []
      return entries
        .map(e => ({ ...e, package_id: aliases[e.package_id] ?? e.package_id }))
        .sort((a, b) => (a.rank ?? 99) - (b.rank ?? 99))
    },
    repository (id) {
      return file.packages?.[id]?.repository
    },
  }
}
