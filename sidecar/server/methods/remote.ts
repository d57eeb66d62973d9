/** @module Pull for the panel: the preview (what changes, what conflicts) and the pull with the user's choices. */
import type { MethodTable } from './types'

export const remoteMethods: MethodTable = {
  'env.pullPreview': {
    scope: 'env',
    exclusive: true,
    async run (ctx, params) {
      const { planPull } = await import('../../remote')
      return (await planPull(ctx.workspace, ctx.env, { remote: params.remote, onProgress: ctx.onProgress, signal: ctx.signal })).preview
    },
  },
  'env.pull': {
    scope: 'env',
    exclusive: true,
    changes: true,
    async run (ctx, params) {
      const { pullEnvironment } = await import('../../remote')
      const r = await pullEnvironment(ctx.workspace, ctx.env, {
        remote: params.remote, choices: params.choices, prefer: params.prefer, commitFirst: params.commitFirst, models: params.models, onProgress: ctx.onProgress, signal: ctx.signal,
      })
      const rep = r.repair
      return {
        ok: r.ok,
        commit: r.commit,
        ...(r.committedFirst ? { committedFirst: r.committedFirst } : {}),
        preview: r.preview,
        workflowsWritten: r.workflows.written,
        failed: [
          ...(rep?.nodes.failed.map(f => ({ item: f.id, error: f.error })) ?? []),
          ...(rep?.models.failed.map(f => ({ item: f.filename, error: f.error })) ?? []),
          ...(rep?.python.error ? [{ item: 'Python packages', error: rep.python.error }] : []),
          ...(r.error ? [{ item: 'environment', error: r.error }] : []),
        ],
      }
    },
  },
}
