/**
 * @module Where the sidecar is. The settings override wins (a user with their own ComfyUI runs
 * `comfydock serve` and pastes URL + token); otherwise the bridge route that the comfydock custom
 * node adds to ComfyUI answers with what `comfydock run` put in its environment.
 */
import type { BridgeInfo, LoadFailure } from '../sidecar/protocol'
import type { SidecarEndpoint } from './connection'
import { comfyFetch, getSetting } from './host'

export const SETTING_URL = 'Comfydock.SidecarUrl'
export const SETTING_TOKEN = 'Comfydock.SidecarToken'

export interface SidecarTarget extends SidecarEndpoint {
  source: 'settings' | 'bridge'
}

export type Discovery =
  | { target: SidecarTarget, loadFailures: LoadFailure[] }
  | { target: null, reason: string, loadFailures: LoadFailure[] }

export function directEndpoint (url: string, token: string): SidecarEndpoint {
  const base = url.replace(/\/+$/, '')
  return { wsUrl: `${base.replace(/^http/, 'ws')}/ws`, httpBase: base, token }
}

export async function discoverSidecar (): Promise<Discovery> {
  let info: BridgeInfo | null = null
  let bridgeProblem = ''
  try {
    const res = await comfyFetch('/comfydock/bridge')
    if (res.ok) info = await res.json() as BridgeInfo
    else bridgeProblem = res.status === 403
      ? (await res.json().catch(() => ({})) as { error?: string }).error ?? 'the comfydock bridge refused this page (HTTP 403)'
      : `the comfydock bridge is not installed in this ComfyUI (HTTP ${res.status})`
  } catch (err) {
    bridgeProblem = `cannot ask ComfyUI for the sidecar: ${err instanceof Error ? err.message : String(err)}`
  }
  const loadFailures = Array.isArray(info?.loadFailures) ? info.loadFailures : []
  const url = getSetting(SETTING_URL)
  if (url) return { target: { ...directEndpoint(url, getSetting(SETTING_TOKEN)), source: 'settings' }, loadFailures }
  if (!info) return { target: null, reason: bridgeProblem, loadFailures }
  if (!info.url || !info.token) return { target: null, reason: 'ComfyUI was not started by `comfydock run`, so no sidecar is known', loadFailures }
  return { target: { ...directEndpoint(info.url, info.token), source: 'bridge' }, loadFailures }
}
