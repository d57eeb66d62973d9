/**
 * @module Where the sidecar is. The settings override wins (a user with their own ComfyUI runs
 * `comfydock serve` and pastes URL + token); otherwise the bridge route that the comfydock custom
 * node adds to ComfyUI answers with what `comfydock run` put in its environment.
 */
import type { BridgeInfo } from '../sidecar/protocol'
import { comfyFetch, getSetting } from './host'

export const SETTING_URL = 'Comfydock.SidecarUrl'
export const SETTING_TOKEN = 'Comfydock.SidecarToken'

export interface SidecarTarget {
  url: string
  token: string
  source: 'settings' | 'bridge'
}

export type Discovery = { target: SidecarTarget } | { target: null, reason: string }

export async function discoverSidecar (): Promise<Discovery> {
  const url = getSetting(SETTING_URL)
  if (url) {
    return { target: { url, token: getSetting(SETTING_TOKEN), source: 'settings' } }
  }
  try {
    const res = await comfyFetch('/comfydock/bridge')
    if (!res.ok) return { target: null, reason: `the comfydock bridge is not installed in this ComfyUI (HTTP ${res.status})` }
    const info = await res.json() as BridgeInfo
    if (!info.url || !info.token) return { target: null, reason: 'ComfyUI was not started by `comfydock run`, so no sidecar is known' }
    return { target: { url: info.url, token: info.token, source: 'bridge' } }
  } catch (err) {
    return { target: null, reason: `cannot ask ComfyUI for the sidecar: ${err instanceof Error ? err.message : String(err)}` }
  }
}
