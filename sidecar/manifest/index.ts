export * from './types'
export * from './pyproject'
export * from './schema'
