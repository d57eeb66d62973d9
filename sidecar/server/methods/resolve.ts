/** @module Fixing what a workflow lacks from the panel: model downloads and node pack installs. */
import type { MethodTable } from './types'

export const resolveMethods: MethodTable = {
  'models.download': {
    scope: 'env',
    changes: true,
    async run (ctx, params) {
      const { downloadModel } = await import('../../models')
      const model = await downloadModel(ctx.workspace, {
        url: params.url,
        ...(params.folder ? { folder: params.folder } : {}),
        ...(params.relPath ? { relPath: params.relPath } : {}),
        ...(params.expectedHash ? { expectedHash: params.expectedHash } : {}),
      }, { onProgress: ctx.onProgress, signal: ctx.signal })
      return { hash: model.hash, path: model.relPath }
    },
  },
  'nodes.install': {
    scope: 'env',
    exclusive: true,
    changes: true,
    async run (ctx, params) {
      const { addNodes } = await import('../../nodes')
      const { withEnvLock } = await import('../../env')
      // The queue serializes this sidecar's own writes; the lock keeps a CLI in another process out of pyproject.
      const out = await withEnvLock(ctx.env, 'comfydock panel: install node packs',
        () => addNodes(ctx.workspace, ctx.env, params.specs, { onProgress: ctx.onProgress, signal: ctx.signal }), { signal: ctx.signal })
      return {
        installed: out.results.filter(r => r.ok).map(r => r.id ?? r.spec),
        failed: out.results.filter(r => !r.ok).map(r => ({ spec: r.spec, error: r.error ?? { code: 'NODE_INSTALL_FAILED' as const, message: `could not add ${r.spec}` } })),
      }
    },
  },
}
