export * from './git'
export * from './validate'
