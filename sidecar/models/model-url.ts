/**
 * @module What a download URL points at. Hugging Face (resolve/blob URLs, or `hf:owner/repo/path`),
 * CivitAI (api/download URLs, model pages with a version id, model-versions API URLs) and direct
 * URLs. Base URLs come from the workspace config, so a mirror or a test server works the same.
 */
import { ComfydockError } from '../errors'
import type { SourceType } from './types'

export interface ServiceUrls {
  huggingface: string
  civitai: string
}

export type ModelUrl =
  | { type: 'huggingface', repo: string, revision: string, file: string, downloadUrl: string }
  | { type: 'civitai', versionId?: number, modelId?: number, downloadUrl?: string }
  | { type: 'url', downloadUrl: string }

const HF_HOSTS = ['huggingface.co', 'hf.co']
const CIVITAI_HOSTS = ['civitai.com']

function hostOf (url: string): string { return new URL(url).host.toLowerCase() }

function isService (u: URL, base: string, known: string[]): boolean {
  const host = u.host.toLowerCase()
  return host === hostOf(base) || known.some(k => host === k || host.endsWith(`.${k}`))
}

export function parseModelUrl (input: string, services: ServiceUrls): ModelUrl {
  const hf = /^hf:([^/\s]+)\/([^/\s]+)\/(.+?)(?:@([^@/]+))?$/.exec(input)
  if (hf) {
    const [, owner, name, file, rev = 'main'] = hf
    return hfUrl(services.huggingface, `${owner}/${name}`, rev, file)
  }
  let u: URL
  try {
    u = new URL(input)
  } catch {
    throw new ComfydockError('INVALID_ARGUMENT', `"${input}" is not a URL`, {
      hint: 'Pass an http(s) URL, or `hf:owner/repo/path/file.safetensors` for a Hugging Face file.',
    })
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new ComfydockError('INVALID_ARGUMENT', `"${input}" is not an http(s) URL`)
  }
  const segs = u.pathname.split('/').filter(Boolean).map(decodeURIComponent)
  if (isService(u, services.huggingface, HF_HOSTS)) {
    const i = segs.findIndex(s => s === 'resolve' || s === 'blob')
    if (i === 2 && segs.length >= 5) return hfUrl(`${u.protocol}//${u.host}`, `${segs[0]}/${segs[1]}`, segs[3], segs.slice(4).join('/'))
    throw new ComfydockError('INVALID_ARGUMENT', `"${input}" is not a Hugging Face file URL`, {
      hint: 'Use the file\'s URL: https://huggingface.co/<owner>/<repo>/resolve/<revision>/<path>.',
    })
  }
  if (isService(u, services.civitai, CIVITAI_HOSTS)) {
    const base = `${u.protocol}//${u.host}`
    const versionParam = Number(u.searchParams.get('modelVersionId'))
    if (segs[0] === 'api' && segs[1] === 'download' && segs[2] === 'models' && /^\d+$/.test(segs[3] ?? '')) {
      return { type: 'civitai', versionId: Number(segs[3]), downloadUrl: `${base}/api/download/models/${segs[3]}${u.search}` }
    }
    if (segs[0] === 'api' && segs[1] === 'v1' && segs[2] === 'model-versions' && /^\d+$/.test(segs[3] ?? '')) {
      return { type: 'civitai', versionId: Number(segs[3]) }
    }
    if (segs[0] === 'models' && /^\d+$/.test(segs[1] ?? '')) {
      return versionParam > 0 ? { type: 'civitai', versionId: versionParam, modelId: Number(segs[1]) } : { type: 'civitai', modelId: Number(segs[1]) }
    }
  }
  return { type: 'url', downloadUrl: u.toString() }
}

function hfUrl (base: string, repo: string, revision: string, file: string): ModelUrl {
  const path = file.split('/').map(encodeURIComponent).join('/')
  return { type: 'huggingface', repo, revision, file, downloadUrl: `${base.replace(/\/$/, '')}/${repo}/resolve/${encodeURIComponent(revision)}/${path}` }
}

/** Source type of a URL recorded in the index or manifest. */
export function sourceTypeOf (url: string, services: ServiceUrls): SourceType {
  try {
    const u = new URL(url)
    if (isService(u, services.huggingface, HF_HOSTS)) return 'huggingface'
    if (isService(u, services.civitai, CIVITAI_HOSTS)) return 'civitai'
  } catch { /* not a URL: plain */ }
  return 'url'
}

/** CivitAI model types to ComfyUI model folders. */
export const CIVITAI_TYPE_FOLDERS: Record<string, string> = {
  checkpoint: 'checkpoints', lora: 'loras', locon: 'loras', dora: 'loras', lycoris: 'loras',
  textualinversion: 'embeddings', hypernetwork: 'hypernetworks', controlnet: 'controlnet', vae: 'vae', upscaler: 'upscale_models',
}

/**
 * The SHA-256 Hugging Face announces for an LFS file: its resolve URL answers a redirect carrying
 * `X-Linked-Etag: "<sha256>"`. Undefined for non-LFS files or when the host does not say.
 */
export function sha256FromLinkedEtag (etag: string | string[] | undefined): string | undefined {
  const value = (Array.isArray(etag) ? etag[0] : etag)?.replace(/^W\//, '').replace(/"/g, '').trim().toLowerCase()
  return value && /^[0-9a-f]{64}$/.test(value) ? value : undefined
}
