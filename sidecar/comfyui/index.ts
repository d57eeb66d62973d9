export { resolveComfyuiRef } from './resolve'
export { ensureCached, copyCachedTree, cachedTreeDir, isCached, type ResolvedComfyui, type ComfyuiVersionType } from './cache'
export { listRemoteRefs, releaseTags, sourceUrl, type RemoteRefs } from './source'
export { writeExtraModelPaths, extraModelPathsYaml } from './model-paths'
