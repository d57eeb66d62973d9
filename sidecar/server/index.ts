/** @module The sidecar server: HTTP + WebSocket over the core, for the ComfyUI panel and the CLI. */
export { createApp, type AppDeps } from './app'
export { Dispatcher } from './dispatch'
export { defaultMethods, type MethodTable, type MethodSpec, type MethodContext } from './methods'
export { SecurityPolicy, newToken, normalizeOrigin } from './security'
export { createSidecar, startSidecar, exportsDirOf, HOST, type Sidecar, type SidecarOptions, type RunningSidecar } from './start'
