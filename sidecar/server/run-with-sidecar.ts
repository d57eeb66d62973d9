/**
 * @module `comfydock run` with the panel: link the bridge, start the sidecar, start ComfyUI with the
 * variables the bridge reads, and stop both when either ends or on Ctrl-C / SIGTERM.
 */
import { spawnComfyUI } from '../env'
import type { EnvPaths, Workspace } from '../workspace'
import { linkBridge } from './bridge-link'
import { startSidecar, type RunningSidecar } from './start'

export const ENV_SIDECAR_URL = 'COMFYDOCK_SIDECAR_URL'
export const ENV_SIDECAR_TOKEN = 'COMFYDOCK_SIDECAR_TOKEN'

/** The address ComfyUI will serve on, from its own `--listen` / `--port` arguments. */
export function comfyuiUrlFromArgs (args: readonly string[]): string {
  const value = (flag: string): string | undefined => {
    const i = args.findIndex(a => a === flag || a.startsWith(`${flag}=`))
    if (i < 0) return undefined
    return args[i].includes('=') ? args[i].split('=')[1] : args[i + 1]
  }
  const port = value('--port') ?? '8188'
  const listen = value('--listen')
  // ComfyUI takes a comma-separated list; a wildcard address is reached as 127.0.0.1 from this machine
  const host = (listen ?? '127.0.0.1').split(',')[0]
  const shown = !host || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host
  return `http://${shown}:${port}`
}

export interface RunWithSidecarEvents {
  /** Called once both are starting: where ComfyUI will answer and where the sidecar listens. */
  started?: (info: { comfyui: string, sidecar: RunningSidecar, bridge: { path: string, kept: boolean } }) => void
}

export async function runWithSidecar (ws: Workspace, env: EnvPaths, args: readonly string[] = [], events: RunWithSidecarEvents = {}): Promise<number> {
  const bridge = await linkBridge(env.customNodes)
  const comfyui = comfyuiUrlFromArgs(args)
  const sidecar = await startSidecar({ workspaceRoot: ws.root, origins: [comfyui] })
  let proc: Awaited<ReturnType<typeof spawnComfyUI>>
  try {
    proc = await spawnComfyUI(ws, env, args, { env: { [ENV_SIDECAR_URL]: sidecar.url, [ENV_SIDECAR_TOKEN]: sidecar.token } })
  } catch (err) {
    await sidecar.close()
    throw err
  }
  events.started?.({ comfyui, sidecar, bridge })
  const onInt = (): void => { void proc.stop('SIGINT') }
  const onTerm = (): void => { void proc.stop('SIGTERM') }
  // ComfyUI runs in its own process group: if this process dies, take ComfyUI with it
  const onExit = (): void => {
    if (proc.child.exitCode === null && proc.child.signalCode === null && proc.child.pid) {
      try { process.kill(process.platform === 'win32' ? proc.child.pid : -proc.child.pid, 'SIGTERM') } catch { /* gone */ }
    }
  }
  process.on('SIGINT', onInt)
  process.on('SIGTERM', onTerm)
  process.on('exit', onExit)
  try {
    return await proc.exited
  } finally {
    process.off('SIGINT', onInt)
    process.off('SIGTERM', onTerm)
    process.off('exit', onExit)
    await sidecar.close()
  }
}
