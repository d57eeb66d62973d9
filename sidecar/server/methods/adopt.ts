/** @module `env.adopt`: the unmanaged ComfyUI the sidecar runs next to becomes an environment, which it then serves. */
import { ComfydockError } from '../../errors'
import type { MethodTable } from './types'

/** One adoption at a time per folder: a second click must not make a second environment. */
const adopting = new Set<string>()

export const adoptMethods: MethodTable = {
  'env.adopt': {
    scope: 'none',
    async run (ctx, params) {
      const folder = ctx.unmanagedComfyui
      if (!folder) throw new ComfydockError('INVALID_ARGUMENT', 'this sidecar serves an environment already; there is no ComfyUI to adopt')
      if (adopting.has(folder)) throw new ComfydockError('BUSY', `${folder} is being adopted already`)
      adopting.add(folder)
      try {
        const { adoptInstall } = await import('../../adopt')
        // the defaults the CLI offers: workflows and development nodes copied; the user's folder is only read
        const res = await adoptInstall(ctx.workspace, folder, { ...(params.name ? { name: params.name } : {}), onProgress: ctx.onProgress, signal: ctx.signal })
        ctx.serveEnv(res.name)
        return {
          name: res.name,
          ok: res.ok,
          installed: res.nodes.installed,
          development: res.nodes.development,
          workflows: res.workflows.tracked,
          notAdopted: res.not_adopted.map(n => ({ item: n.item, reason: n.reason })),
          failed: res.nodes.failed.map(f => ({ item: f.id, error: f.error })),
        }
      } finally {
        adopting.delete(folder)
      }
    },
  },
}
