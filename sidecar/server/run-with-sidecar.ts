/**
 * @module `comfydock run` with the panel: link the bridge, start the sidecar, run ComfyUI with the
 * variables the bridge reads, and close the sidecar when ComfyUI ends (Ctrl-C / SIGTERM stop ComfyUI).
 */
import { ComfydockError } from '../errors'
import type { SpawnComfyUIOptions } from '../env'
import type { EnvPaths, Workspace } from '../workspace'
import { linkBridge } from './bridge-link'
import { startSidecar, type RunningSidecar } from './start'

export const ENV_SIDECAR_URL = 'COMFYDOCK_SIDECAR_URL'
export const ENV_SIDECAR_TOKEN = 'COMFYDOCK_SIDECAR_TOKEN'
/** Names other machines reach ComfyUI by; the bridge answers clients not on loopback only when set. */
export const ENV_PANEL_HOSTS = 'COMFYDOCK_PANEL_HOSTS'

/** The address ComfyUI will serve on, from its own `--listen` / `--port` arguments. */
export function comfyuiUrlFromArgs (args: readonly string[]): string {
  const value = (flag: string): string | undefined => {
    const i = args.findIndex(a => a === flag || a.startsWith(`${flag}=`))
    if (i < 0) return undefined
    return args[i].includes('=') ? args[i].split('=')[1] : args[i + 1]
  }
  const port = value('--port') ?? '8188'
  // ComfyUI takes a comma-separated list; a wildcard address is reached as 127.0.0.1 from this machine
  const host = (value('--listen') ?? '127.0.0.1').split(',')[0]
  const shown = !host || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host
  return `http://${shown}:${port}`
}

export interface RunWithSidecarOptions {
  /** Called before ComfyUI starts: where it will answer, where the sidecar listens, where the bridge is. */
  starting?: (info: { comfyui: string, sidecar: RunningSidecar, bridge: { path: string, kept: boolean } }) => void
  /** ComfyUI's stdio (default: inherited); `--json` sends its output to stderr to keep stdout for the result. */
  stdio?: SpawnComfyUIOptions['stdio']
  /**
   * `host` or `host:port` other machines open ComfyUI at (`run --panel-host`). The opt-in for the panel
   * on another machine: the bridge then answers clients not on loopback that use one of these names.
   */
  panelHosts?: string[]
}

/** The origins a browser sends for each `--panel-host` (ComfyUI's own port unless one is given). */
export function panelHostOrigins (hosts: readonly string[], comfyui: string): { names: string[], origins: string[] } {
  const port = new URL(comfyui).port || '80'
  const names: string[] = []
  const origins: string[] = []
  for (const raw of hosts) {
    const url = URL.canParse(`http://${raw}`) ? new URL(`http://${raw}`) : null
    if (!url || !url.hostname || /[/?#@\s]/.test(raw)) {
      throw new ComfydockError('INVALID_ARGUMENT', `--panel-host "${raw}" is not a host name or address`, {
        hint: 'Give the name or address other machines use, e.g. `--panel-host 192.168.1.20` or `--panel-host studio.local:8188`.',
      })
    }
    names.push(url.hostname.replace(/^\[|\]$/g, ''))
    for (const scheme of ['http', 'https']) origins.push(`${scheme}://${url.hostname}:${url.port || port}`)
  }
  return { names, origins }
}

/** Returns ComfyUI's exit code. */
export async function runWithSidecar (ws: Workspace, env: EnvPaths, args: readonly string[] = [], opts: RunWithSidecarOptions = {}): Promise<number> {
  // Refuse before linking, so an incomplete environment is left as it was.
  // The env core is loaded here, not at module load: `comfydock serve` imports this folder too.
  const { assertRunnable, runComfyUI } = await import('../env')
  await assertRunnable(env)
  const bridge = await linkBridge(env.customNodes)
  const comfyui = comfyuiUrlFromArgs(args)
  const panel = panelHostOrigins(opts.panelHosts ?? [], comfyui)
  // pinned to this environment: the panel of `-e X run` must act on X even when another one is active
  const sidecar = await startSidecar({ workspaceRoot: ws.root, origins: [comfyui, ...panel.origins], env: env.name })
  try {
    opts.starting?.({ comfyui, sidecar, bridge })
    const vars: NodeJS.ProcessEnv = { [ENV_SIDECAR_URL]: sidecar.url, [ENV_SIDECAR_TOKEN]: sidecar.token, [ENV_PANEL_HOSTS]: panel.names.join(',') }
    return await runComfyUI(ws, env, args, { stdio: opts.stdio, env: vars })
  } finally {
    await sidecar.close()
  }
}
