export * from './atomic-write'
export * from './safe-join'
export * from './temp-dir'
export * from './exists'
