/** @module Any other http(s) URL: fetched as it is. Last in the chain: it claims whatever is left. */
import { httpUrl } from './base-url'
import type { ModelHost } from './types'

export const plainUrlHost: ModelHost = {
  id: 'url',
  label: 'URL',
  settings: [],
  forms: ['any http(s) URL of the file'],
  knowsFolder: false,
  authHint: 'The server wants a login that comfydock does not have; download the file by hand, then run `comfydock model index sync`.',
  tokens: () => [],
  claim (input) {
    const u = httpUrl(input)
    if (!u) return undefined
    const url = u.toString()
    return { host: this, sourceUrl: url, plan: async ctx => ({ host: 'url', downloadUrl: url, sourceUrl: url, headers: ctx.headersFor(url) }) }
  },
}
