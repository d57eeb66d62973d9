/** @module Base URLs and tokens of the model hosts, from the workspace config; each token scoped to its host. */
import { authHeadersFor } from '../net'
import type { Workspace } from '../workspace'
import type { ServiceUrls } from './model-url'

export interface ServiceAccess {
  services: ServiceUrls
  /** Authorization for `url` when it is on the host a token belongs to; {} otherwise. */
  headersFor: (url: string) => Record<string, string>
}

export async function serviceAccess (ws: Workspace): Promise<ServiceAccess> {
  const cfg = ws.config()
  const services = { huggingface: cfg.huggingface_url, civitai: cfg.civitai_url }
  const tokens = [
    { baseUrl: services.huggingface, token: await ws.secret('hf_token') },
    { baseUrl: services.civitai, token: await ws.secret('civitai_token') },
  ]
  return { services, headersFor: (url) => authHeadersFor(url, tokens) }
}
