/** @module Environment status and history for the panel. */
import { readManifest } from '../../manifest'
import type { MethodTable } from './types'

export const envMethods: MethodTable = {
  'env.status': {
    scope: 'env',
    async run (ctx, params) {
      const { getEnvironmentStatus, getGitStatus } = await import('../../env')
      const doc = await readManifest(ctx.env.pyproject)
      // the panel refreshes often: git state by default, every section (Python, nodes...) only when asked
      const git = await getGitStatus(ctx.workspace, ctx.env)
      const changes = git.changes.map(c => c.path)
      const out = {
        env: ctx.env.name,
        comfyuiVersion: doc.tool.comfydock.comfyui_version ?? null,
        changes,
        clean: changes.length === 0,
      }
      if (!params.full) return out
      const full = await getEnvironmentStatus(ctx.workspace, ctx.env)
      return { ...out, details: { ok: full.ok, complete: full.complete, sections: full.sections } }
    },
  },
  'env.log': {
    scope: 'env',
    async run (ctx, params) {
      const { environmentLog } = await import('../../env')
      return environmentLog(ctx.env, { limit: params.limit ?? 50, ...(params.workflows ? { workflows: params.workflows } : {}) })
    },
  },
}
