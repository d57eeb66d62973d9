/** @module Environment status and history for the panel. */
import { isComfydockError } from '../../errors'
import { readManifest } from '../../manifest'
import type { ObjectInfo } from '../../workflows'
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
      const { listRemotes } = await import('../../remote')
      const out = {
        env: ctx.env.name,
        comfyuiVersion: doc.tool.comfydock.comfyui_version ?? null,
        changes,
        clean: changes.length === 0,
        remotes: (await listRemotes(ctx.env)).map(r => r.name),
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
  'env.commit': {
    scope: 'env',
    exclusive: true,
    changes: true,
    async run (ctx, params) {
      const { commitEnvironment } = await import('../../env')
      try {
        const res = await commitEnvironment(ctx.workspace, ctx.env, {
          message: params.message,
          allowIssues: params.allowIssues,
          objectInfo: ctx.session.context?.objectInfo as ObjectInfo | undefined,
          modelLists: ctx.session.context?.modelLists,
          onProgress: ctx.onProgress,
          signal: ctx.signal,
        })
        return { commit: res.commit, short: res.short, workflows: res.workflows.workflows.map(w => w.name) }
      } catch (err) {
        if (isComfydockError(err) && err.code === 'NOTHING_TO_COMMIT') return { commit: null, short: null, workflows: [] }
        throw err
      }
    },
  },
  'env.repair': {
    scope: 'env',
    exclusive: true,
    changes: true,
    async run (ctx, params) {
      const { planRepair, applyRepair, withEnvLock } = await import('../../env')
      return withEnvLock(ctx.env, 'comfydock panel: repair', async () => {
        const plan = await planRepair(ctx.workspace, ctx.env, { onProgress: ctx.onProgress, signal: ctx.signal })
        // each banner's Repair fixes what that banner names
        if (params.only === 'files') plan.python = { pending: [], relock: false, extra: [] }
        if (params.only === 'python') {
          plan.nodes = { ...plan.nodes, missing: [], mismatched: [] }
          plan.workflows = { ...plan.workflows, restore: [] }
          plan.models = { ...plan.models, download: [] }
        }
        const r = await applyRepair(ctx.workspace, ctx.env, plan, { onProgress: ctx.onProgress, signal: ctx.signal })
        return {
          ok: r.ok,
          installed: r.nodes.installed,
          downloaded: r.models.downloaded.map(m => m.filename),
          restored: r.workflows.restored,
          pythonSynced: r.python.synced,
          failed: [
            ...r.nodes.failed.map(f => ({ item: f.id, error: f.error })),
            ...r.models.failed.map(f => ({ item: f.filename, error: f.error })),
            ...(r.python.error ? [{ item: 'Python packages', error: r.python.error }] : []),
          ],
        }
      }, { signal: ctx.signal })
    },
  },
  'env.list': {
    scope: 'none',
    async run (ctx) {
      return (await ctx.workspace.listEnvironments()).map(e => ({ name: e.name, active: e.active, complete: e.complete }))
    },
  },
  'env.use': {
    scope: 'none',
    async run (ctx, params) {
      const { useEnvironment } = await import('../../env')
      return { name: (await useEnvironment(ctx.workspace, params.name)).name }
    },
  },
}
