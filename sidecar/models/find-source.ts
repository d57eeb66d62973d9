/**
 * @module `model find-source`: asks every host that can look content up by hash (CivitAI, the team's
 * store) where a local model comes from, and records each answer as a source. Hugging Face has no
 * hash search, so it is not asked.
 */
import type { OnProgress } from '../protocol'
import type { Workspace } from '../workspace'
import { ensureFullHashes } from './full-hashes'
import { hostContext, MODEL_HOSTS } from './hosts'
import { ModelIndex } from './model-index'
import type { IndexedModel, ModelSource } from './types'

export interface FoundSource {
  model: IndexedModel
  found: ModelSource[]
  /** What the first host that knows it calls it. */
  name?: string
  /** Labels of the hosts asked, for "not found on …" messages. */
  asked: string[]
}

export async function findModelSource (ws: Workspace, model: IndexedModel, opts: { onProgress?: OnProgress, signal?: AbortSignal } = {}): Promise<FoundSource> {
  const ctx = await hostContext(ws, { signal: opts.signal })
  const index = ModelIndex.open(ws)
  try {
    const full = await ensureFullHashes(index, model, opts)
    const found: ModelSource[] = []
    const asked: string[] = []
    let name: string | undefined
    for (const host of MODEL_HOSTS) {
      if (!host.findByHash || host.configured?.(ctx) === false) continue
      asked.push(host.label)
      const hit = await host.findByHash({ sha256: full.sha256!, blake3: full.blake3 }, ctx)
      if (!hit) continue
      const source: ModelSource = { type: host.id, url: hit.sourceUrl }
      index.addSource(full.hash, source, hit.metadata ?? {})
      found.push(source)
      name ??= hit.name
    }
    return { model: found.length ? index.get(full.hash)! : full, found, name, asked }
  } finally {
    index.close()
  }
}
