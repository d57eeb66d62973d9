/** @module Environment status and history for the panel. */
import { openGit } from '../../git'
import { readManifest } from '../../manifest'
import type { MethodTable } from './types'

export const envMethods: MethodTable = {
  'env.status': {
    scope: 'env',
    async run (ctx) {
      const doc = await readManifest(ctx.env.pyproject)
      const changes = (await openGit(ctx.env.cec).status()).map(line => line.slice(3))
      return {
        env: ctx.env.name,
        comfyuiVersion: doc.tool.comfydock.comfyui_version ?? null,
        changes,
        clean: changes.length === 0,
      }
    },
  },
  'env.log': {
    scope: 'env',
    async run (ctx, params) {
      return openGit(ctx.env.cec).log({ limit: params.limit ?? 50 })
    },
  },
}
