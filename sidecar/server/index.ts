/** @module The sidecar server: HTTP + WebSocket over the core, for the ComfyUI panel and the CLI. */
export { createApp, type AppDeps } from './app'
export { Dispatcher } from './dispatch'
export { defaultMethods, type MethodTable, type MethodSpec, type MethodContext } from './methods'
export { SecurityPolicy, newToken, normalizeOrigin } from './security'
export { createSidecar, startSidecar, HOST, type Sidecar, type SidecarOptions, type RunningSidecar } from './start'
export { runWithSidecar, comfyuiUrlFromArgs, ENV_SIDECAR_URL, ENV_SIDECAR_TOKEN } from './run-with-sidecar'
export { linkBridge, bridgeSourceDir, BRIDGE_NODE_NAME } from './bridge-link'
export { EnvQueue } from './env-queue'
