/** @module `server.hello`: what this sidecar is and offers. */
import { PROTOCOL_VERSION } from '../../protocol'
import { VERSION } from '../../version'
import type { MethodTable } from './types'

export const serverMethods: MethodTable = {
  'server.hello': {
    scope: 'none',
    async run (ctx) {
      return {
        protocol: PROTOCOL_VERSION,
        version: VERSION,
        workspace: ctx.workspace.root,
        methods: ctx.methods,
        // the panel's environment: the one this sidecar was started for, else the workspace's active one
        activeEnv: ctx.defaultEnv ?? null,
      }
    },
  },
}
