/**
 * @module Hugging Face: resolve/blob file URLs and `hf:owner/repo/path[@revision]`. The SHA-256 of an
 * LFS file is announced by its resolve URL (`X-Linked-Etag` on the redirect), so the download is verified.
 */
import { ComfydockError } from '../../errors'
import { httpRequestFollow, safeBaseName } from '../../net'
import { httpUrl, isServiceUrl, trimSlash } from './base-url'
import type { DownloadPlan, HostContext, ModelHost } from './types'

const KNOWN_HOSTS = ['huggingface.co', 'hf.co']

export interface HuggingfaceFile { repo: string, revision: string, file: string, downloadUrl: string }

function fileUrl (base: string, repo: string, revision: string, file: string): HuggingfaceFile {
  const path = file.split('/').map(encodeURIComponent).join('/')
  return { repo, revision, file, downloadUrl: `${trimSlash(base)}/${repo}/resolve/${encodeURIComponent(revision)}/${path}` }
}

/** The file a Hugging Face URL or `hf:` spec names; undefined when it is not Hugging Face's. */
export function parseHuggingface (input: string, baseUrl: string): HuggingfaceFile | undefined {
  const hf = /^hf:([^/\s]+)\/([^/\s]+)\/(.+?)(?:@([^@/]+))?$/.exec(input)
  if (hf) return fileUrl(baseUrl, `${hf[1]}/${hf[2]}`, hf[4] ?? 'main', hf[3])
  const u = httpUrl(input)
  if (!u || !isServiceUrl(u, baseUrl, KNOWN_HOSTS)) return undefined
  const segs = u.pathname.split('/').filter(Boolean).map(decodeURIComponent)
  const i = segs.findIndex(s => s === 'resolve' || s === 'blob')
  if (i === 2 && segs.length >= 5) return fileUrl(`${u.protocol}//${u.host}`, `${segs[0]}/${segs[1]}`, segs[3], segs.slice(4).join('/'))
  throw new ComfydockError('INVALID_ARGUMENT', `"${input}" is not a Hugging Face file URL`, {
    hint: 'Use the file\'s URL: https://huggingface.co/<owner>/<repo>/resolve/<revision>/<path>.',
  })
}

/**
 * The SHA-256 Hugging Face announces for an LFS file: its resolve URL answers a redirect carrying
 * `X-Linked-Etag: "<sha256>"`. Undefined for non-LFS files or when the host does not say.
 */
export function sha256FromLinkedEtag (etag: string | string[] | undefined): string | undefined {
  const value = (Array.isArray(etag) ? etag[0] : etag)?.replace(/^W\//, '').replace(/"/g, '').trim().toLowerCase()
  return value && /^[0-9a-f]{64}$/.test(value) ? value : undefined
}

/** Asks the resolve URL (without following it) for the LFS SHA-256; a failure only means "unknown". */
async function announcedSha256 (url: string, ctx: HostContext): Promise<string | undefined> {
  try {
    const { res } = await httpRequestFollow(url, { method: 'HEAD', headers: ctx.headersFor(url), signal: ctx.signal, followRedirects: false })
    res.resume()
    return sha256FromLinkedEtag(res.headers['x-linked-etag'])
  } catch {
    return undefined
  }
}

export const huggingfaceHost: ModelHost = {
  id: 'huggingface',
  label: 'Hugging Face',
  settings: [
    { key: 'huggingface_url', default: 'https://huggingface.co', description: 'Hugging Face base URL' },
    { key: 'hf_token', default: '', secret: true, description: 'Hugging Face access token (sent only to the Hugging Face host)' },
  ],
  forms: ['https://huggingface.co/<owner>/<repo>/resolve/<revision>/<path>', 'hf:<owner>/<repo>/<path>[@revision]'],
  knowsFolder: false,
  authHint: 'Set a Hugging Face token: `comfydock config hf_token <token>` (and accept the model\'s licence on its page).',
  tokens: ctx => [{ baseUrl: ctx.setting('huggingface_url'), token: ctx.secret('hf_token') }],
  claim (input, ctx) {
    const file = parseHuggingface(input, ctx.setting('huggingface_url'))
    if (!file) return undefined
    return {
      host: this,
      sourceUrl: file.downloadUrl,
      plan: async (c): Promise<DownloadPlan> => ({
        host: 'huggingface',
        downloadUrl: file.downloadUrl,
        sourceUrl: file.downloadUrl,
        headers: c.headersFor(file.downloadUrl),
        filename: safeBaseName(file.file),
        expectedSha256: await announcedSha256(file.downloadUrl, c),
      }),
    }
  },
}
