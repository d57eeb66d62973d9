/**
 * @module Wire types shared by the sidecar and the browser extension.
 * Types and tiny guards only: no Node APIs, so the extension bundle can import it.
 */
export * from './errors'
export * from './progress'
export * from './messages'
