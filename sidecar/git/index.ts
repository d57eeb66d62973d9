export * from './git'
