export * from './add-nodes'
export * from './node-status'
export * from './install-missing'
export type { NodeOperationOptions } from './node-context'
