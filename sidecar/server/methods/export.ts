/** @module `env.export`: the bundle goes to the workspace's exports folder, served back by download URL. */
import { mkdir } from 'node:fs/promises'
import { basename } from 'node:path'
import type { MethodTable } from './types'

export const exportMethods: MethodTable = {
  'env.export': {
    scope: 'env',
    exclusive: true,
    async run (ctx, params) {
      await mkdir(ctx.exportsDir, { recursive: true })
      const { exportEnvironment } = await import('../../bundle')
      const res = await exportEnvironment(ctx.workspace, ctx.env, { output: ctx.exportsDir, allowIssues: params.allowIssues, onProgress: ctx.onProgress, signal: ctx.signal })
      const file = basename(res.path)
      return { file, size: res.size, downloadPath: `/downloads/${encodeURIComponent(file)}` }
    },
  },
}
