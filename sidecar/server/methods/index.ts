/**
 * @module Every method the sidecar offers, keyed by protocol name. Each method imports its core concern
 * when it first runs, so the server starts listening without parsing the whole core.
 */
import { adoptMethods } from './adopt'
import { browserAnalysisMethods } from './browser-analysis'
import { envMethods } from './env'
import { exportMethods } from './export'
import { remoteMethods } from './remote'
import { resolveMethods } from './resolve'
import { serverMethods } from './server'
import { workflowMethods } from './workflows'
import type { MethodTable } from './types'

export type { MethodContext, MethodSpec, MethodTable, ServerContext } from './types'

export function defaultMethods (): MethodTable {
  return { ...serverMethods, ...envMethods, ...browserAnalysisMethods, ...workflowMethods, ...resolveMethods, ...exportMethods, ...remoteMethods, ...adoptMethods }
}
