/** @module The few CivitAI API calls we make: a model version's metadata, and a look-up by file hash. */
import { fetchJson } from '../net'

export interface CivitaiFile {
  name: string
  primary?: boolean
  sizeKB?: number
  downloadUrl?: string
  hashes?: Record<string, string>
}

export interface CivitaiVersion {
  id: number
  modelId?: number
  name?: string
  baseModel?: string
  model?: { name?: string, type?: string }
  files?: CivitaiFile[]
}

export interface CivitaiModel {
  id: number
  name?: string
  type?: string
  modelVersions?: CivitaiVersion[]
}

export interface CivitaiClientOptions {
  baseUrl: string
  headers?: Record<string, string>
  signal?: AbortSignal
}

const base = (o: CivitaiClientOptions): string => o.baseUrl.replace(/\/$/, '')

export async function getCivitaiVersion (id: number, opts: CivitaiClientOptions): Promise<CivitaiVersion | undefined> {
  return fetchJson<CivitaiVersion>(`${base(opts)}/api/v1/model-versions/${id}`, { headers: opts.headers, signal: opts.signal, allowNotFound: true })
}

export async function getCivitaiModel (id: number, opts: CivitaiClientOptions): Promise<CivitaiModel | undefined> {
  return fetchJson<CivitaiModel>(`${base(opts)}/api/v1/models/${id}`, { headers: opts.headers, signal: opts.signal, allowNotFound: true })
}

/** SHA-256, BLAKE3, AutoV2 … all work; undefined when CivitAI does not know the file. */
export async function findCivitaiVersionByHash (hash: string, opts: CivitaiClientOptions): Promise<CivitaiVersion | undefined> {
  return fetchJson<CivitaiVersion>(`${base(opts)}/api/v1/model-versions/by-hash/${encodeURIComponent(hash)}`, { headers: opts.headers, signal: opts.signal, allowNotFound: true })
}

export function primaryFile (v: CivitaiVersion): CivitaiFile | undefined {
  return v.files?.find(f => f.primary) ?? v.files?.[0]
}

export function civitaiDownloadUrl (baseUrl: string, versionId: number): string {
  return `${baseUrl.replace(/\/$/, '')}/api/download/models/${versionId}`
}
