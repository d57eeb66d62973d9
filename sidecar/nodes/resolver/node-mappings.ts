/**
 * @module The original tool's public node_mappings.json (node class signature -> ranked packs), fetched
 * from a configurable URL at run time and cached with the registry answers (24 h, stale when offline).
 */
import { z } from 'zod'
import { cachedGetJson } from '../registry/cached-get'
import type { ResponseCache } from '../registry/response-cache'
import { parseAnswer } from '../../net/parse-answer'

const mappingEntrySchema = z.object({
  package_id: z.string().min(1),
  versions: z.array(z.string()).optional(),
  rank: z.number().optional(),
  source: z.string().optional(),
}).passthrough()

export type MappingEntry = z.infer<typeof mappingEntrySchema>

/**
 * The file's outline is checked at once; its tens of thousands of entries are checked one key at a time
 * when looked up (a bad entry is skipped), so a status does not pay for the whole file.
 */
const nodeMappingsFileSchema = z.object({
  version: z.string().optional(),
  package_aliases: z.record(z.string()).optional(),
  mappings: z.record(z.unknown()).optional(),
  packages: z.record(z.object({ display_name: z.string().nullish(), repository: z.string().nullish() }).passthrough()).optional(),
}).passthrough()

export interface NodeMappings {
  /** Ranked entries for a key (`Type::sig8` or `Type::_`), aliases applied. */
  lookup (key: string): MappingEntry[]
  repository (packageId: string): string | undefined
  stale: boolean
}

export const MAPPINGS_TTL_MS = 24 * 60 * 60 * 1000

export async function loadNodeMappings (url: string, cache: ResponseCache, opts: { signal?: AbortSignal } = {}): Promise<NodeMappings> {
  const res = await cachedGetJson<unknown>(url, { cache, ttlMs: MAPPINGS_TTL_MS, service: 'the node mappings source', ...opts })
  const file = res.data === undefined ? {} : parseAnswer(nodeMappingsFileSchema, res.data, 'the node mappings source', url)
  const aliases = file.package_aliases ?? {}
  return {
    stale: res.origin === 'stale',
    lookup (key) {
      const raw = Object.hasOwn(file.mappings ?? {}, key) ? file.mappings![key] : []
      const entries = Array.isArray(raw) ? raw.flatMap(e => { const p = mappingEntrySchema.safeParse(e); return p.success ? [p.data] : [] }) : []
      return entries
        .map(e => ({ ...e, package_id: Object.hasOwn(aliases, e.package_id) ? aliases[e.package_id] : e.package_id }))
        .sort((a, b) => (a.rank ?? 99) - (b.rank ?? 99))
    },
    repository (id) {
      return (Object.hasOwn(file.packages ?? {}, id) ? file.packages![id].repository : undefined) ?? undefined
    },
  }
}
