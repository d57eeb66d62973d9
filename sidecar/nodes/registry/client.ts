/**
 * @module Read-only Comfy Registry client against a configurable base URL. Every answer goes through
 * the SQLite response cache; when the server is unreachable and an old answer serves, `servedStale`
 * becomes true so commands can say the data came from the cache. Never calls the install-counting endpoint.
 */
import { ComfydockError } from '../../errors'
import { cachedGetJson, type CachedGetResult } from './cached-get'
import type { ResponseCache } from './response-cache'
import type { z } from 'zod'
import { parseAnswer } from '../../net/parse-answer'
import {
  registryComfyNodesPageSchema, registryNodeSchema, registryNodeVersionSchema, registryPageSchema,
  type RegistryComfyNode, type RegistryNode, type RegistryNodeVersion,
} from './types'

export const REGISTRY_TTL_MS = 24 * 60 * 60 * 1000

export interface RegistryClientOptions {
  baseUrl: string
  cache: ResponseCache
  ttlMs?: number
  signal?: AbortSignal
  refresh?: boolean
}

export interface RegistryClient {
  readonly baseUrl: string
  /** True once any answer came from the cache because the server could not be reached. */
  readonly servedStale: boolean
  getNode (id: string): Promise<RegistryNode | undefined>
  listVersions (id: string): Promise<RegistryNodeVersion[]>
  getVersion (id: string, version: string): Promise<RegistryNodeVersion | undefined>
  search (text: string, limit?: number): Promise<RegistryNode[]>
  searchByClass (className: string, limit?: number): Promise<RegistryNode[]>
  searchByRepository (url: string, limit?: number): Promise<RegistryNode[]>
  /** The registry's ranked pick for a class name (`/comfy-nodes/{name}/node`). */
  nodeForClass (className: string): Promise<RegistryNode | undefined>
  /** Every node class a pack version declares (all pages). */
  versionClasses (id: string, version: string): Promise<RegistryComfyNode[]>
}

export function createRegistryClient (opts: RegistryClientOptions): RegistryClient {
  const base = opts.baseUrl.replace(/\/+$/, '')
  let servedStale = false
  /** Every answer is checked against its schema before anything reads it. */
  const get = async <T> (schema: z.ZodType<T, z.ZodTypeDef, unknown>, path: string, query: Record<string, string | number> = {}): Promise<CachedGetResult<T>> => {
    const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString()
    const url = `${base}${path}${qs ? `?${qs}` : ''}`
    const res = await cachedGetJson<unknown>(url, {
      cache: opts.cache, ttlMs: opts.ttlMs ?? REGISTRY_TTL_MS, signal: opts.signal, refresh: opts.refresh, service: 'the Comfy Registry',
    })
    if (res.origin === 'stale') servedStale = true
    return { ...res, data: res.data === undefined ? undefined : parseAnswer(schema, res.data, 'the Comfy Registry', url) }
  }
  const seg = encodeURIComponent
  return {
    baseUrl: base,
    get servedStale () { return servedStale },
    async getNode (id) {
      return (await get(registryNodeSchema, `/nodes/${seg(id)}`)).data
    },
    async listVersions (id) {
      return (await get(registryNodeVersionSchema.array(), `/nodes/${seg(id)}/versions`)).data ?? []
    },
    async getVersion (id, version) {
      return (await get(registryNodeVersionSchema, `/nodes/${seg(id)}/versions/${seg(version)}`)).data
    },
    async search (text, limit = 20) {
      return (await get(registryPageSchema, '/nodes/search', { search: text, limit })).data?.nodes ?? []
    },
    async searchByClass (className, limit = 20) {
      return (await get(registryPageSchema, '/nodes/search', { comfy_node_search: className, limit })).data?.nodes ?? []
    },
    async searchByRepository (url, limit = 5) {
      return (await get(registryPageSchema, '/nodes/search', { repository_url_search: url, limit })).data?.nodes ?? []
    },
    async nodeForClass (className) {
      return (await get(registryNodeSchema, `/comfy-nodes/${seg(className)}/node`)).data
    },
    async versionClasses (id, version) {
      const out: RegistryComfyNode[] = []
      for (let page = 1; page <= 50; page++) {
        const res = (await get(registryComfyNodesPageSchema, `/nodes/${seg(id)}/versions/${seg(version)}/comfy-nodes`, { page, limit: 100 })).data
        out.push(...(res?.comfy_nodes ?? []))
        if (!res || page >= (res.totalNumberOfPages ?? 1)) break
      }
      return out
    },
  }
}

/** The pinned version of a pack: the given one, or the latest. NODE_NOT_FOUND / NODE_VERSION_NOT_FOUND otherwise. */
export async function resolveRegistryVersion (client: RegistryClient, id: string, version?: string): Promise<{ node: RegistryNode, version: RegistryNodeVersion }> {
  const node = await client.getNode(id)
  if (!node) {
    throw new ComfydockError('NODE_NOT_FOUND', `"${id}" is not a pack in the Comfy Registry (${client.baseUrl})`, {
      hint: 'Check the id on registry.comfy.org, or add it by git URL: `comfydock node add https://github.com/<user>/<repo>`.',
    })
  }
  const wanted = version?.replace(/^v/, '')
  const found = wanted ? await client.getVersion(id, wanted) : node.latest_version
  if (!found?.version) {
    const known = wanted ? (await client.listVersions(id)).map(v => v.version).filter(Boolean).slice(0, 8) : []
    throw new ComfydockError('NODE_VERSION_NOT_FOUND', wanted
      ? `"${id}" has no version "${wanted}"${known.length ? ` (have: ${known.join(', ')})` : ''}`
      : `"${id}" has no published version`, {
      hint: `Run \`comfydock node add ${id}\` for the latest version.`,
    })
  }
  return { node, version: found }
}
