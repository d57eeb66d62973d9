/**
 * @module `model find-source`: asks CivitAI's by-hash endpoint where a local model comes from and
 * records the answer as a source. Hugging Face has no hash search, so only CivitAI is asked.
 */
import type { OnProgress } from '../protocol'
import type { Workspace } from '../workspace'
import { civitaiDownloadUrl, findCivitaiVersionByHash, primaryFile } from './civitai'
import { ensureFullHashes } from './full-hashes'
import { ModelIndex } from './model-index'
import { serviceAccess } from './service-access'
import type { IndexedModel, ModelSource } from './types'

export interface FoundSource {
  model: IndexedModel
  found: ModelSource[]
  /** What CivitAI calls it, when found. */
  name?: string
}

export async function findModelSource (ws: Workspace, model: IndexedModel, opts: { onProgress?: OnProgress, signal?: AbortSignal } = {}): Promise<FoundSource> {
  const access = await serviceAccess(ws)
  const index = ModelIndex.open(ws)
  try {
    const full = await ensureFullHashes(index, model, opts)
    const client = { baseUrl: access.services.civitai, headers: access.headersFor(access.services.civitai), signal: opts.signal }
    const version = await findCivitaiVersionByHash(full.sha256!, client) ?? await findCivitaiVersionByHash(full.blake3!, client)
    if (!version) return { model: full, found: [] }
    const source: ModelSource = { type: 'civitai', url: civitaiDownloadUrl(access.services.civitai, version.id) }
    index.addSource(full.hash, source, { versionId: version.id, modelId: version.modelId, file: primaryFile(version)?.name })
    return { model: index.get(full.hash)!, found: [source], name: [version.model?.name, version.name].filter(Boolean).join(' / ') || undefined }
  } finally {
    index.close()
  }
}
