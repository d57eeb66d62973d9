/** @module `workflows.analyze`: the browser's open tabs, checked by the workflows core. */
import type { ModelLists, ObjectInfo } from '../../workflows'
import type { MethodTable } from './types'

export const browserAnalysisMethods: MethodTable = {
  'workflows.analyze': {
    scope: 'env',
    async run (ctx, params) {
      // Loaded on first use: `comfydock serve` should not parse the whole core before it listens.
      const { analyzeBrowserWorkflows } = await import('../../workflows')
      return analyzeBrowserWorkflows(ctx.workspace, ctx.env, {
        workflows: params.workflows,
        objectInfo: ctx.session.context?.objectInfo as ObjectInfo | undefined,
        modelLists: ctx.session.context?.modelLists as ModelLists | undefined,
        loadFailures: ctx.session.context?.loadFailures,
      })
    },
  },
}
