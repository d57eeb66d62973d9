/** @module Models: the content-addressed index, scanning, hashing, downloads and the manifest's model table. */
export { shortHash, shortHashWithSize, sampleRanges } from './short-hash'
export { fullHash, type FullHashOptions } from './full-hash'
export { ModelIndex } from './model-index'
export { MIGRATIONS, SCHEMA_VERSION } from './index-schema'
export { syncIndex, syncIndexWith, trackedDirs, type ScanOptions, type ScanResult, type ScanChange } from './scan'
export { MODEL_FOLDERS, defaultCriticality, isModelFile } from './model-files'
export { folderOf, toRelPath, type IndexedModel, type ModelLocation, type ModelSource, type SourceType } from './types'
