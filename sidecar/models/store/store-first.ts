/**
 * @module Fetch order for a missing model: the team's store first (when one is configured and the
 * model's SHA-256 is known, it is asked even if no one recorded it there), other stores next, public
 * hosts last. A store that lacks the object only costs one failed request before the next source.
 */
import type { Workspace } from '../../workspace'
import { MODEL_STORE_SETTING, parseStoreUrl, storeSourceUrl } from './store-config'

export async function putStoreFirst (ws: Workspace, needs: Array<{ sha256?: string, sources: string[] }>): Promise<void> {
  const configured = await ws.setting(MODEL_STORE_SETTING)
  const loc = configured ? parseStoreUrl(configured) : undefined
  for (const need of needs) {
    const own = loc && need.sha256 ? [storeSourceUrl(loc, need.sha256)] : []
    const stores = need.sources.filter(s => s.startsWith('s3://'))
    need.sources = [...new Set([...own, ...stores, ...need.sources])]
  }
}
