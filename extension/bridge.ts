/**
 * @module Where the sidecar is. The settings override wins (a user with their own ComfyUI runs
 * `comfydock serve` and pastes URL + token; the page then talks to the sidecar's own port). Otherwise
 * the bridge custom node answers, and carries the panel's WebSocket and downloads through ComfyUI's
 * own origin, so a strict Content-Security-Policy (`connect-src 'self'`) does not cut the panel off.
 */
import type { BridgeInfo, LoadFailure } from '../sidecar/protocol'
import type { SidecarEndpoint } from './connection'
import { comfyApiUrl, comfyFetch, getSetting } from './host'

export const SETTING_URL = 'Comfydock.SidecarUrl'
export const SETTING_TOKEN = 'Comfydock.SidecarToken'

export interface SidecarTarget extends SidecarEndpoint {
  source: 'settings' | 'bridge'
}

export type Discovery =
  | { target: SidecarTarget, loadFailures: LoadFailure[] }
  | { target: null, reason: string, loadFailures: LoadFailure[] }

/** The sidecar's routes as the bridge carries them: `/api/comfydock/sidecar/ws` and `/downloads/...` under it. */
export function bridgedEndpoint (token: string): SidecarEndpoint {
  const base = comfyApiUrl('/comfydock/sidecar')
  const ws = new URL(base.href)
  ws.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:'
  return { wsUrl: `${ws.href}/ws`, httpBase: base.href, token }
}

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
  if (!info.token) return { target: null, reason: 'ComfyUI was not started by `comfydock run`, so no sidecar is known', loadFailures }
  return { target: { ...bridgedEndpoint(info.token), source: 'bridge' }, loadFailures }
}
