/** @module `model index hash`: fills in full BLAKE3 and SHA-256 for indexed models, on demand. */
import { join } from 'node:path'
import { ComfydockError } from '../errors'
import { startTask } from '../progress'
import type { OnProgress } from '../protocol'
import type { Workspace } from '../workspace'
import { fullHash } from './full-hash'
import { ModelIndex } from './model-index'
import { shortHashWithSize } from './short-hash'
import type { IndexedModel } from './types'

export interface HashModelsOptions {
  onProgress?: OnProgress
  signal?: AbortSignal
  /** Recompute even when full hashes are already known. */
  force?: boolean
}

/** Computes full hashes for `models` (default: every present model lacking them). Returns the updated models. */
export async function hashModels (ws: Workspace, models: IndexedModel[] | undefined, opts: HashModelsOptions = {}): Promise<IndexedModel[]> {
  const index = ModelIndex.open(ws)
  try {
    const todo = (models ?? index.list()).filter(m => opts.force || !m.blake3 || !m.sha256)
    const task = startTask(opts.onProgress, `hash ${todo.length} model${todo.length === 1 ? '' : 's'}`, { total: todo.length, unit: 'items' })
    const out: IndexedModel[] = []
    for (const [i, m] of todo.entries()) {
      out.push(await hashOne(index, m, { ...opts, parent: task }))
      task.advance(i + 1)
    }
    task.end('ok')
    return out
  } finally {
    index.close()
  }
}

/** Full hashes of one model, computed from a location whose bytes still match its short hash. */
export async function ensureFullHashes (index: ModelIndex, model: IndexedModel, opts: HashModelsOptions = {}): Promise<IndexedModel> {
  if (model.blake3 && model.sha256 && !opts.force) return model
  return hashOne(index, model, opts)
}

async function hashOne (index: ModelIndex, m: IndexedModel, opts: HashModelsOptions & { parent?: ReturnType<typeof startTask> }): Promise<IndexedModel> {
  for (const loc of m.locations) {
    const file = join(loc.baseDir, loc.relPath)
    const check = await shortHashWithSize(file).catch(() => undefined)
    if (check?.hash !== m.hash) continue // moved or changed since the last sync
    const d = await fullHash(file, { signal: opts.signal, onProgress: opts.onProgress, label: `hash ${loc.relPath}` })
    index.upsertModel(m.hash, m.size, { blake3: d.blake3, sha256: d.sha256 })
    return index.get(m.hash)!
  }
  throw new ComfydockError('MODEL_NOT_FOUND', `no file of model ${m.hash} is present to hash`, { hint: 'Run `comfydock model index sync` to refresh the index.' })
}
