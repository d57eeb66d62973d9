export * from './layout'
export * from './config'
export * from './workspace'
