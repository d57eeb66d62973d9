/** @module Methods about the connection itself: hello, its runtime context, cancelling one of its requests. */
import { PROTOCOL_VERSION, type ContextPartName } from '../../protocol'
import { VERSION } from '../../version'
import type { MethodTable } from './types'

export const serverMethods: MethodTable = {
  'server.hello': {
    scope: 'none',
    async run (ctx) {
      return {
        protocol: PROTOCOL_VERSION,
        version: VERSION,
        workspace: ctx.workspace.root,
        methods: ctx.methods,
        // the panel's environment: the one this sidecar was started for, else the workspace's active one
        activeEnv: ctx.defaultEnv ?? null,
        unmanagedComfyui: ctx.unmanagedComfyui,
      }
    },
  },
  'session.context': {
    scope: 'none',
    async run (ctx, params) {
      const parts: Partial<Record<ContextPartName, unknown>> = {}
      const missing: ContextPartName[] = []
      for (const name of ['objectInfo', 'modelLists'] as const) {
        const part = params[name]
        if (!part) continue
        if (part.value !== undefined) ctx.contexts.set(name, part.hash, part.value)
        const value = part.value ?? ctx.contexts.get(name, part.hash)
        if (value === undefined) missing.push(name)
        else parts[name] = value
      }
      if (missing.length) return { missing }
      ctx.session.context = {
        ...(parts.objectInfo ? { objectInfo: parts.objectInfo as Record<string, unknown> } : {}),
        ...(parts.modelLists ? { modelLists: parts.modelLists as Record<string, string[]> } : {}),
        ...(params.loadFailures?.length ? { loadFailures: params.loadFailures } : {}),
      }
      return { missing }
    },
  },
  'op.cancel': {
    scope: 'none',
    async run (ctx, params) {
      return { cancelled: ctx.session.cancel(params.request) }
    },
  },
}
