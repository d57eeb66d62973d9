/** @module Bundles: export an environment to one reproducible .tar.gz, read and import bundles (and ComfyUI-Manager snapshots) safely. */
export { exportEnvironment, defaultBundleName, type ExportOptions, type ExportResult, type ExportSummary } from './export'
export { DEV_NODE_MAX_BYTES, DEV_NODE_WARN_BYTES } from './export-checks'
export {
  BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, parseBundleManifest, bundleCorrupt, type BundleManifest, type BundleTotals,
} from './format'
export { extractSafely, DEFAULT_EXTRACT_LIMITS, type ExtractLimits, type ExtractOptions } from './safe-extract'
export { withOpenedBundle, readExtractedBundle, type OpenedBundle } from './open-bundle'
export { importBundle, type ImportOptions, type ImportResult } from './import'
export { previewImport, freeEnvName, type ImportPreview } from './import-preview'
export { importSnapshot, readForeignSnapshot, planSnapshotPips, planPips, pinPips, SNAPSHOT_PIPS_GROUP, type SnapshotImportOptions, type SnapshotImportResult, type SnapshotPreview } from './import-snapshot'
export { parseManagerSnapshot, readManagerSnapshot, isSnapshotFile } from './manager-snapshot'
export { readDesktopSnapshot, DESKTOP_SNAPSHOT_TYPE } from './desktop-snapshot'
export { isLocalOnlySource, isMachineLocalPackage, parsePipLine, type ForeignSnapshot, type SnapshotPack, type SnapshotItem, type SnapshotPip } from './foreign-snapshot'
export { exportManagerSnapshot, type SnapshotExportOptions, type SnapshotExportResult, type ManagerSnapshotDoc } from './export-snapshot'
export { localOnlySourceWarnings } from './portability'
export { classifyImportSource, withDownloadedSource, type ImportSource } from './import-source'
