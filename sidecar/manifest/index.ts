export * from './types'
export * from './pyproject'
