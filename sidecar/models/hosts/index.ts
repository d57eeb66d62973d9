/**
 * @module The chain of model hosts, in the order they are asked: the first to claim an input plans
 * its download. Settings and tokens of every host come from here, so `comfydock config` and the
 * token scoping follow the list: adding a host is its file plus one line below.
 */
import { ComfydockError } from '../../errors'
import { authHeadersFor } from '../../net'
import type { SettingSpec, Workspace } from '../../workspace'
import { civitaiHost } from './civitai'
import { huggingfaceHost } from './huggingface'
import { plainUrlHost } from './plain-url'
import { storeHost } from './store'
import { TRANSFER_SETTING } from '../store/transfer-limit'
import type { HostClaim, HostContext, ModelHost } from './types'

export const MODEL_HOSTS: readonly ModelHost[] = [storeHost, huggingfaceHost, civitaiHost, plainUrlHost]

export const MODEL_HOST_SETTINGS: readonly SettingSpec[] = MODEL_HOSTS.flatMap(h => h.settings)

/** Settings and credentials of every host, read once; `signal` is the operation's. */
export async function hostContext (ws: Workspace, opts: { signal?: AbortSignal, environment?: Record<string, string | undefined> } = {}): Promise<HostContext> {
  const values = new Map<string, string>()
  for (const spec of [...MODEL_HOST_SETTINGS, TRANSFER_SETTING]) values.set(spec.key, await ws.setting(spec))
  const setting = (key: string): string => {
    if (!values.has(key)) throw new Error(`model hosts declare no setting "${key}"`)
    return values.get(key)!
  }
  const secret = (key: string): string | undefined => setting(key) || undefined
  const tokens = MODEL_HOSTS.flatMap(h => h.tokens({ setting, secret }))
  return {
    setting,
    secret,
    environment: opts.environment ?? process.env,
    headersFor: url => authHeadersFor(url, tokens),
    signal: opts.signal,
  }
}

/** The first host that claims `input`, or INVALID_ARGUMENT listing what may be passed. */
export function claimSource (input: string, ctx: HostContext): HostClaim {
  for (const host of MODEL_HOSTS) {
    const claim = host.claim(input.trim(), ctx)
    if (claim) return claim
  }
  throw new ComfydockError('INVALID_ARGUMENT', `"${input}" is not a model URL`, {
    hint: `Pass one of: ${MODEL_HOSTS.flatMap(h => h.forms).join('; ')}.`,
  })
}

/** The host a recorded source belongs to (its type in the index), if it still exists. */
export function hostById (id: string): ModelHost | undefined {
  return MODEL_HOSTS.find(h => h.id === id)
}

export type { DownloadPlan, FoundByHash, HostClaim, HostContext, ModelHost } from './types'
export { CIVITAI_TYPE_FOLDERS } from './civitai'
export { sha256FromLinkedEtag } from './huggingface'
