/** @module `serve`: runs the sidecar for the ComfyUI panel until Ctrl-C. */
import { realpath } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { Command } from 'commander'
import { ComfydockError } from '../../errors'
import { pathExists } from '../../fs'
import type { Workspace } from '../../workspace'
import { collectValues, withContext } from '../context'

export const DEFAULT_COMFYUI_ORIGIN = 'http://127.0.0.1:8188'

function parsePort (value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new ComfydockError('INVALID_ARGUMENT', `--port "${value}" is not a port number`, { hint: 'Use 1-65535, or omit --port for a free one.' })
  }
  return n
}

/**
 * The ComfyUI `serve` runs next to: an environment's own (served as that environment), or one that is no
 * environment (the panel offers to adopt it). The current folder counts only when it is a ComfyUI.
 */
export async function comfyuiNextTo (ws: Workspace, folder: string | undefined): Promise<{ env?: string, unmanaged?: string }> {
  const given = folder !== undefined
  const root = resolve(folder ?? process.cwd())
  const isComfyui = await pathExists(join(root, 'main.py')) && await pathExists(join(root, 'folder_paths.py'))
  if (!isComfyui) {
    if (given) throw new ComfydockError('NOT_A_COMFYUI', `${root} is not a ComfyUI folder (no main.py and folder_paths.py)`, { hint: 'Pass the folder that holds ComfyUI\'s main.py.' })
    return {}
  }
  const real = await realpath(root)
  for (const e of await ws.listEnvironments()) {
    const own = await realpath(ws.env(e.name).comfyui).catch(() => null)
    if (own === real) return { env: e.name }
  }
  return { unmanaged: real }
}

export function registerServeCommands (program: Command): void {
  program
    .command('serve')
    .description('run the sidecar the ComfyUI panel talks to (127.0.0.1 only; prints its URL and token)')
    .option('--port <n>', 'port to listen on (default: a free one)')
    .option('--origin <url>', `ComfyUI address allowed to connect; repeatable (default: ${DEFAULT_COMFYUI_ORIGIN})`, collectValues)
    .option('--comfyui <folder>', 'the ComfyUI the panel runs in (default: the current folder, when it is one); one that is no environment can be adopted from the panel')
    .action(withContext<{ port?: string, origin?: string[], comfyui?: string }>(async (ctx, _args, opts) => {
      const { startSidecar } = await import('../../server')
      const ws = await ctx.workspace()
      const origins = opts.origin?.length ? opts.origin : [DEFAULT_COMFYUI_ORIGIN]
      const next = await comfyuiNextTo(ws, opts.comfyui)
      const sidecar = await startSidecar({ workspaceRoot: ws.root, port: opts.port === undefined ? undefined : parsePort(opts.port), origins, ...(next.env ? { env: next.env } : {}), ...(next.unmanaged ? { unmanagedComfyui: next.unmanaged } : {}) })
      if (ctx.json) {
        process.stdout.write(JSON.stringify({ url: sidecar.url, ws: sidecar.wsUrl, token: sidecar.token, env: next.env ?? null, unmanaged_comfyui: next.unmanaged ?? null }) + '\n')
      } else {
        process.stdout.write([
          `comfydock sidecar listening on ${sidecar.url}`,
          `  token:   ${sidecar.token}`,
          `  origins: ${sidecar.policy.allowedOrigins.join(', ')}`,
          ...(next.env ? [`  serves:  environment ${next.env} (its ComfyUI is ${resolve(opts.comfyui ?? '.')})`] : []),
          ...(next.unmanaged ? [`  ComfyUI: ${next.unmanaged} is no comfydock environment; the panel offers "Adopt this ComfyUI"`] : []),
          '',
          'In ComfyUI: Settings > comfydock > Sidecar URL, or start ComfyUI with',
          `  COMFYDOCK_SIDECAR_URL=${sidecar.url} COMFYDOCK_SIDECAR_TOKEN=<token>`,
          'Press Ctrl-C to stop.',
        ].join('\n') + '\n')
      }
      await new Promise<void>(resolve => {
        const stop = (): void => { void sidecar.close().then(resolve) }
        process.once('SIGINT', stop)
        process.once('SIGTERM', stop)
      })
    }))
}
