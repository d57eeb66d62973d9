/**
 * @module CivitAI: download URLs, model pages (with or without a version id) and model-version API
 * URLs. The version's metadata gives the file name, the model folder (from the model type) and the
 * SHA-256; CivitAI also answers look-ups by hash, so `model find-source` asks it.
 */
import { ComfydockError } from '../../errors'
import { safeBaseName } from '../../net'
import { civitaiDownloadUrl, findCivitaiVersionByHash, getCivitaiModel, getCivitaiVersion, primaryFile, type CivitaiClientOptions } from '../civitai'
import { httpUrl, isServiceUrl } from './base-url'
import type { DownloadPlan, HostContext, ModelHost } from './types'

const KNOWN_HOSTS = ['civitai.com']

/** CivitAI model types to ComfyUI model folders. */
export const CIVITAI_TYPE_FOLDERS: Record<string, string> = {
  checkpoint: 'checkpoints', lora: 'loras', locon: 'loras', dora: 'loras', lycoris: 'loras',
  textualinversion: 'embeddings', hypernetwork: 'hypernetworks', controlnet: 'controlnet', vae: 'vae', upscaler: 'upscale_models',
}

export interface CivitaiRef { versionId?: number, modelId?: number, downloadUrl?: string }

/** What a CivitAI URL names; undefined for other URLs, or CivitAI URLs that name no model. */
export function parseCivitai (input: string, baseUrl: string): CivitaiRef | undefined {
  const u = httpUrl(input)
  if (!u || !isServiceUrl(u, baseUrl, KNOWN_HOSTS)) return undefined
  const segs = u.pathname.split('/').filter(Boolean).map(decodeURIComponent)
  const versionParam = Number(u.searchParams.get('modelVersionId'))
  if (segs[0] === 'api' && segs[1] === 'download' && segs[2] === 'models' && /^\d+$/.test(segs[3] ?? '')) {
    return { versionId: Number(segs[3]), downloadUrl: `${u.protocol}//${u.host}/api/download/models/${segs[3]}${u.search}` }
  }
  if (segs[0] === 'api' && segs[1] === 'v1' && segs[2] === 'model-versions' && /^\d+$/.test(segs[3] ?? '')) return { versionId: Number(segs[3]) }
  if (segs[0] === 'models' && /^\d+$/.test(segs[1] ?? '')) {
    return versionParam > 0 ? { versionId: versionParam, modelId: Number(segs[1]) } : { modelId: Number(segs[1]) }
  }
  return undefined
}

function client (ctx: HostContext): CivitaiClientOptions {
  const baseUrl = ctx.setting('civitai_url')
  return { baseUrl, headers: ctx.headersFor(baseUrl), signal: ctx.signal }
}

async function plan (ref: CivitaiRef, ctx: HostContext): Promise<DownloadPlan> {
  const c = client(ctx)
  let versionId = ref.versionId
  if (versionId === undefined && ref.modelId !== undefined) {
    versionId = (await getCivitaiModel(ref.modelId, c))?.modelVersions?.[0]?.id
    if (versionId === undefined) {
      throw new ComfydockError('MODEL_NOT_FOUND', `CivitAI has no downloadable version of model ${ref.modelId}`, {
        hint: 'Open the model page, pick a version and pass its URL (it carries ?modelVersionId=…).',
      })
    }
  }
  const version = await getCivitaiVersion(versionId!, c).catch(() => undefined)
  const file = version ? primaryFile(version) : undefined
  const type = version?.model?.type?.toLowerCase().replace(/\s+/g, '')
  const downloadUrl = ref.downloadUrl ?? civitaiDownloadUrl(c.baseUrl, versionId!)
  return {
    host: 'civitai',
    downloadUrl,
    sourceUrl: civitaiDownloadUrl(c.baseUrl, versionId!),
    headers: ctx.headersFor(downloadUrl),
    filename: file?.name ? safeBaseName(file.name) : undefined,
    folder: type ? CIVITAI_TYPE_FOLDERS[type] : undefined,
    expectedSha256: file?.hashes?.SHA256?.toLowerCase(),
    metadata: version ? { versionId: version.id, modelId: version.modelId } : undefined,
  }
}

export const civitaiHost: ModelHost = {
  id: 'civitai',
  label: 'CivitAI',
  settings: [
    { key: 'civitai_url', default: 'https://civitai.com', description: 'CivitAI base URL' },
    { key: 'civitai_token', default: '', secret: true, description: 'CivitAI API key (sent only to the CivitAI host)' },
  ],
  forms: ['https://civitai.com/models/<id>[?modelVersionId=<version>]', 'https://civitai.com/api/download/models/<version>'],
  knowsFolder: true,
  authHint: 'Set a CivitAI API key: `comfydock config civitai_token <key>` (from civitai.com › Account settings › API keys).',
  tokens: ctx => [{ baseUrl: ctx.setting('civitai_url'), token: ctx.secret('civitai_token') }],
  claim (input, ctx) {
    const ref = parseCivitai(input, ctx.setting('civitai_url'))
    if (!ref) return undefined
    return {
      host: this,
      sourceUrl: ref.versionId !== undefined ? civitaiDownloadUrl(ctx.setting('civitai_url'), ref.versionId) : undefined,
      plan: c => plan(ref, c),
    }
  },
  async findByHash (hashes, ctx) {
    const c = client(ctx)
    const version = await findCivitaiVersionByHash(hashes.sha256, c) ?? (hashes.blake3 ? await findCivitaiVersionByHash(hashes.blake3, c) : undefined)
    if (!version) return undefined
    return {
      sourceUrl: civitaiDownloadUrl(c.baseUrl, version.id),
      metadata: { versionId: version.id, modelId: version.modelId, file: primaryFile(version)?.name },
      name: [version.model?.name, version.name].filter(Boolean).join(' / ') || undefined,
    }
  },
}
