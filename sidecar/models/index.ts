/** @module Models: the content-addressed index, scanning, hashing, downloads and the manifest's model table. */
export { shortHash, shortHashWithSize, sampleRanges } from './short-hash'
export { ShortHashPool, defaultPoolSize, type PoolResult } from './short-hash-pool'
export { fullHash, blake3File, type FullHashOptions } from './full-hash'
export { ModelIndex } from './model-index'
export { MIGRATIONS, SCHEMA_VERSION } from './index-schema'
export { syncIndex, syncIndexWith, trackedDirs, type ScanOptions, type ScanResult, type ScanChange } from './scan'
export { MODEL_FOLDERS, KNOWN_MODEL_FOLDERS, PACK_MODEL_FOLDERS, defaultCriticality, isModelFile, modelCategory } from './model-files'
export { folderOf, markUnverified, onlyUnverifiedSources, toRelPath, type IndexedModel, type ModelLocation, type ModelSource, type SourceType } from './types'
export { downloadModel, downloadModels, type DownloadRequest, type DownloadModelOptions, type DownloadedModel } from './download-model'
export { MODEL_HOSTS, MODEL_HOST_SETTINGS, claimSource, hostById, hostContext, type DownloadPlan, type HostClaim, type HostContext, type ModelHost } from './hosts'
export { hashModels, ensureFullHashes, type HashModelsOptions } from './full-hashes'
export { findModelSource, type FoundSource } from './find-source'
export { findModels, onlyMatch, resolveModel, searchModels } from './resolve-model'
export {
  addModelToManifest, removeModelFromManifest, listManifestModels, getModelStatus,
  type ManifestModel, type ModelState, type ModelStatus, type AddModelOptions,
} from './manifest-models'
export { MODEL_SETTINGS } from './settings'
export { pushModels, type PushOptions, type PushOutcome, type PushedModel } from './store/push-models'
export { openStore, type OpenedStore } from './store/open-store'
export { objectKey, parseStoreUrl, storeSourceUrl, type StoreLocation } from './store/store-config'
export { transferLimit } from './store/transfer-limit'
export { putStoreFirst } from './store/store-first'
