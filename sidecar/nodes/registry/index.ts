export * from './types'
export * from './client'
export * from './open'
export { ResponseCache } from './response-cache'
