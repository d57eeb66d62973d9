/**
 * @module Workflows as the browser holds them: the tracked list, commits of tab contents and restore of a
 * committed version (returned so the panel can load it into its tab).
 */
import { isComfydockError } from '../../errors'
import type { ObjectInfo } from '../../workflows'
import type { MethodTable } from './types'

export const workflowMethods: MethodTable = {
  'workflows.list': {
    scope: 'env',
    async run (ctx) {
      const { listWorkflows } = await import('../../workflows')
      return (await listWorkflows(ctx.workspace, ctx.env)).map(w => ({ name: w.name, tracked: w.tracked, state: w.state }))
    },
  },
  'workflows.commit': {
    scope: 'env',
    exclusive: true,
    changes: true,
    async run (ctx, params) {
      const names = params.workflows.map(w => w.name)
      const { commitEnvironment } = await import('../../env')
      try {
        const res = await commitEnvironment(ctx.workspace, ctx.env, {
          message: params.message,
          allowIssues: params.allowIssues,
          workflowContents: Object.fromEntries(params.workflows.map(w => [w.name, w.json])),
          fromBrowser: true,
          objectInfo: ctx.session.context?.objectInfo as ObjectInfo | undefined,
          modelLists: ctx.session.context?.modelLists,
          onProgress: ctx.onProgress,
          signal: ctx.signal,
        })
        return { commit: res.commit, short: res.short, workflows: names }
      } catch (err) {
        if (isComfydockError(err) && err.code === 'NOTHING_TO_COMMIT') return { commit: null, short: null, workflows: names }
        throw err
      }
    },
  },
  'workflows.restore': {
    scope: 'env',
    exclusive: true,
    changes: true,
    async run (ctx, params) {
      const { restoreWorkflow } = await import('../../workflows')
      const res = await restoreWorkflow(ctx.workspace, ctx.env, params.name, { ...(params.ref ? { ref: params.ref } : {}), overwrite: params.overwrite })
      return { name: res.name, ref: res.ref, json: res.workflow as Record<string, unknown> }
    },
  },
}
