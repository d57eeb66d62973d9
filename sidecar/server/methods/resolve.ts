/** @module Fixing what a workflow lacks from the panel: model downloads (node installs join when that core lands). */
import { downloadModel } from '../../models'
import type { MethodTable } from './types'

export const resolveMethods: MethodTable = {
  'models.download': {
    scope: 'env',
    changes: true,
    async run (ctx, params) {
      const model = await downloadModel(ctx.workspace, {
        url: params.url,
        ...(params.folder ? { folder: params.folder } : {}),
        ...(params.relPath ? { relPath: params.relPath } : {}),
        ...(params.expectedHash ? { expectedHash: params.expectedHash } : {}),
      }, { onProgress: ctx.onProgress, signal: ctx.signal })
      return { hash: model.hash, path: model.relPath }
    },
  },
}
