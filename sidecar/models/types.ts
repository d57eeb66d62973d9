/** @module What the index knows about a model; shared by scan, downloads, the manifest and the CLI. */

/** The id of the host a source belongs to (models/hosts): 'huggingface', 'civitai', 'store', 'url'. */
export type SourceType = string

export interface ModelSource {
  type: SourceType
  url: string
  /**
   * The download from this source had no published hash to check against (a plain URL): only its
   * length was checked, and the recorded hash is of the bytes that arrived.
   */
  unverified?: true
}

/** Every source this model was downloaded from was unverified (a model found on disk has none: not marked). */
export function onlyUnverifiedSources (m: { sources: ModelSource[] }): boolean {
  return m.sources.length > 0 && m.sources.every(s => s.unverified)
}

/** A manifest row says `unverified = true` while no source of the model was checked against a published hash. */
export function markUnverified<T extends { unverified?: boolean }> (entry: T, model: { sources: ModelSource[] }): T {
  const out = { ...entry }
  if (onlyUnverifiedSources(model)) out.unverified = true
  else delete out.unverified
  return out
}

export interface ModelLocation {
  /** Absolute models directory the file was found in. */
  baseDir: string
  /** Forward slashes, relative to baseDir: "checkpoints/sd15/x.safetensors". */
  relPath: string
  mtime: number
}

export interface IndexedModel {
  /** Short hash (16 hex), the key. */
  hash: string
  size: number
  blake3?: string
  sha256?: string
  locations: ModelLocation[]
  sources: ModelSource[]
}

/** The model folder of a relative path: its first segment ("checkpoints"). */
export function folderOf (relPath: string): string {
  const parts = relPath.replace(/\\/g, '/').split('/')
  return parts.length > 1 ? parts[0] : ''
}

export function toRelPath (p: string): string {
  return p.replace(/\\/g, '/').replace(/^\.?\/+/, '')
}
