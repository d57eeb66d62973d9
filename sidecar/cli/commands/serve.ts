/** @module `serve`: runs the sidecar for the ComfyUI panel until Ctrl-C. */
import type { Command } from 'commander'
import { ComfydockError } from '../../errors'
import { collectValues, withContext } from '../context'

export const DEFAULT_COMFYUI_ORIGIN = 'http://127.0.0.1:8188'

function parsePort (value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new ComfydockError('INVALID_ARGUMENT', `--port "${value}" is not a port number`, { hint: 'Use 1-65535, or omit --port for a free one.' })
  }
  return n
}

export function registerServeCommands (program: Command): void {
  program
    .command('serve')
    .description('run the sidecar the ComfyUI panel talks to (127.0.0.1 only; prints its URL and token)')
    .option('--port <n>', 'port to listen on (default: a free one)')
    .option('--origin <url>', `ComfyUI address allowed to connect; repeatable (default: ${DEFAULT_COMFYUI_ORIGIN})`, collectValues)
    .action(withContext<{ port?: string, origin?: string[] }>(async (ctx, _args, opts) => {
      const { startSidecar } = await import('../../server')
      const ws = await ctx.workspace()
      const origins = opts.origin?.length ? opts.origin : [DEFAULT_COMFYUI_ORIGIN]
      const sidecar = await startSidecar({ workspaceRoot: ws.root, port: opts.port === undefined ? undefined : parsePort(opts.port), origins })
      if (ctx.json) {
        process.stdout.write(JSON.stringify({ url: sidecar.url, ws: sidecar.wsUrl, token: sidecar.token }) + '\n')
      } else {
        process.stdout.write([
          `comfydock sidecar listening on ${sidecar.url}`,
          `  token:   ${sidecar.token}`,
          `  origins: ${sidecar.policy.allowedOrigins.join(', ')}`,
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
