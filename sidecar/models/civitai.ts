/** @module The few CivitAI API calls we make: a model version's metadata, and a look-up by file hash. */
import { z } from 'zod'
import { fetchJson, parseAnswer } from '../net'

/* CivitAI answers are checked before use: a file name becomes a file on disk (checked again there), a hash is compared. */
const civitaiFileSchema = z.object({
  name: z.string(),
  primary: z.boolean().nullish().transform(v => v ?? undefined),
  sizeKB: z.number().nullish().transform(v => v ?? undefined),
  downloadUrl: z.string().nullish().transform(v => v ?? undefined),
  hashes: z.record(z.string()).nullish().transform(v => v ?? undefined),
}).passthrough()

const civitaiVersionSchema = z.object({
  id: z.number().int(),
  modelId: z.number().int().nullish().transform(v => v ?? undefined),
  name: z.string().nullish().transform(v => v ?? undefined),
  baseModel: z.string().nullish().transform(v => v ?? undefined),
  model: z.object({ name: z.string().nullish().transform(v => v ?? undefined), type: z.string().nullish().transform(v => v ?? undefined) }).passthrough().nullish().transform(v => v ?? undefined),
  files: z.array(civitaiFileSchema).nullish().transform(v => v ?? undefined),
}).passthrough()

const civitaiModelSchema = z.object({
  id: z.number().int(),
  name: z.string().nullish().transform(v => v ?? undefined),
  type: z.string().nullish().transform(v => v ?? undefined),
  modelVersions: z.array(civitaiVersionSchema).nullish().transform(v => v ?? undefined),
}).passthrough()

export type CivitaiFile = z.infer<typeof civitaiFileSchema>
export type CivitaiVersion = z.infer<typeof civitaiVersionSchema>
export type CivitaiModel = z.infer<typeof civitaiModelSchema>

export interface CivitaiClientOptions {
  baseUrl: string
  headers?: Record<string, string>
  signal?: AbortSignal
}

const base = (o: CivitaiClientOptions): string => o.baseUrl.replace(/\/$/, '')

async function getChecked<T> (schema: z.ZodType<T, z.ZodTypeDef, unknown>, url: string, opts: CivitaiClientOptions): Promise<T | undefined> {
  const data = await fetchJson<unknown>(url, { headers: opts.headers, signal: opts.signal, allowNotFound: true })
  return data === undefined ? undefined : parseAnswer(schema, data, 'CivitAI', url, 'Check `comfydock config civitai_url`; if it is right, try again later.')
}

export async function getCivitaiVersion (id: number, opts: CivitaiClientOptions): Promise<CivitaiVersion | undefined> {
  return getChecked(civitaiVersionSchema, `${base(opts)}/api/v1/model-versions/${id}`, opts)
}

export async function getCivitaiModel (id: number, opts: CivitaiClientOptions): Promise<CivitaiModel | undefined> {
  return getChecked(civitaiModelSchema, `${base(opts)}/api/v1/models/${id}`, opts)
}

/** SHA-256, BLAKE3, AutoV2 … all work; undefined when CivitAI does not know the file. */
export async function findCivitaiVersionByHash (hash: string, opts: CivitaiClientOptions): Promise<CivitaiVersion | undefined> {
  return getChecked(civitaiVersionSchema, `${base(opts)}/api/v1/model-versions/by-hash/${encodeURIComponent(hash)}`, opts)
}

export function primaryFile (v: CivitaiVersion): CivitaiFile | undefined {
  return v.files?.find(f => f.primary) ?? v.files?.[0]
}

export function civitaiDownloadUrl (baseUrl: string, versionId: number): string {
  return `${baseUrl.replace(/\/$/, '')}/api/download/models/${versionId}`
}
