/** @module The workspace's registry client: base URL from config, answers cached in `ws.cache.registryDb`. */
import type { Workspace } from '../../workspace'
import { createRegistryClient, type RegistryClient } from './client'
import { ResponseCache } from './response-cache'

/** One open cache per file per process: the sidecar resolves often and SQLite handles are not free. */
const caches = new Map<string, ResponseCache>()

export function workspaceResponseCache (ws: Workspace): ResponseCache {
  const file = ws.cache.registryDb
  let cache = caches.get(file)
  if (!cache) {
    cache = new ResponseCache(file)
    caches.set(file, cache)
  }
  return cache
}

export interface OpenRegistryOptions {
  signal?: AbortSignal
  /** Ignore fresh cached answers (the cache still serves when offline). */
  refresh?: boolean
}

export function openRegistry (ws: Workspace, opts: OpenRegistryOptions = {}): RegistryClient {
  return createRegistryClient({ baseUrl: ws.config().registry_url, cache: workspaceResponseCache(ws), ...opts })
}
