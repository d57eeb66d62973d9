/**
 * @module Starting the sidecar: one HTTP server on 127.0.0.1 carrying both the hono app and the
 * WebSocket endpoint, on the given port or a free one.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createAdaptorServer } from '@hono/node-server'
import type { Hono } from 'hono'
import { ComfydockError } from '../errors'
import type { EventFrame } from '../protocol'
import { workspacePaths } from '../workspace'
import { createApp } from './app'
import { Dispatcher } from './dispatch'
import { defaultMethods, type MethodTable } from './methods'
import { SecurityPolicy } from './security'
import { attachWebSocket, type SocketHub } from './websocket'

export const HOST = '127.0.0.1'

export interface SidecarOptions {
  workspaceRoot: string
  /** ComfyUI page origins allowed to connect (e.g. http://127.0.0.1:8188). */
  origins?: string[]
  token?: string
  /** Defaults to every method this build offers. */
  methods?: MethodTable
  /** Needed by the Host check when the app is used without listening (tests). */
  port?: number
  /**
   * The environment this sidecar serves when a call names none (`comfydock -e X run` serves X);
   * default: the workspace's active environment at the time of each call.
   */
  env?: string
  /** A ComfyUI folder that is no environment (`serve` next to it): the panel offers to adopt it. */
  unmanagedComfyui?: string
}

export interface Sidecar {
  app: Hono
  policy: SecurityPolicy
  dispatcher: Dispatcher
  exportsDir: string
}

/** The app and its parts, not yet listening; `broadcast` reaches the WebSocket clients once attached. */
export function createSidecar (opts: SidecarOptions, broadcast: (frame: EventFrame) => void = () => {}): Sidecar {
  const policy = new SecurityPolicy({ token: opts.token, origins: opts.origins, port: opts.port })
  // where `env.export` writes bundles and `/downloads/` reads them
  const exportsDir = workspacePaths(opts.workspaceRoot).exports
  const dispatcher = new Dispatcher({ workspaceRoot: opts.workspaceRoot, env: opts.env, unmanagedComfyui: opts.unmanagedComfyui, methods: opts.methods ?? defaultMethods(), exportsDir, broadcast })
  return { app: createApp({ policy, dispatcher, exportsDir }), policy, dispatcher, exportsDir }
}

export interface RunningSidecar extends Sidecar {
  port: number
  url: string
  /** WebSocket URL without the token. */
  wsUrl: string
  token: string
  hub: SocketHub
  close (): Promise<void>
}

export async function startSidecar (opts: SidecarOptions & { port?: number }): Promise<RunningSidecar> {
  let hub: SocketHub | undefined
  const sidecar = createSidecar(opts, frame => hub?.broadcast(frame))
  const server = createAdaptorServer({ fetch: sidecar.app.fetch }) as Server
  hub = attachWebSocket(server, sidecar.policy, () => sidecar.dispatcher)
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE'
        ? new ComfydockError('INVALID_ARGUMENT', `port ${opts.port} on ${HOST} is already in use`, { hint: 'Pick another with `comfydock serve --port N`, or omit --port for a free one.' })
        : err)
    })
    server.listen(opts.port ?? 0, HOST, resolve)
  })
  const port = (server.address() as AddressInfo).port
  sidecar.policy.setPort(port)
  const url = `http://${HOST}:${port}`
  const running = hub
  return {
    ...sidecar,
    port,
    url,
    wsUrl: `ws://${HOST}:${port}/ws`,
    token: sidecar.policy.token,
    hub: running,
    async close () {
      running.close()
      server.closeAllConnections?.()
      await new Promise<void>(resolve => server.close(() => resolve()))
    },
  }
}
