/** @module Turns what a user typed (hash, hash prefix, relative path or file name) into one indexed model. */
import { ComfydockError } from '../errors'
import type { ModelIndex } from './model-index'
import type { IndexedModel } from './types'

/** Every model matching `query`, most specific kind of match first. */
export function findModels (index: ModelIndex, query: string): IndexedModel[] {
  const q = query.trim()
  if (/^(blake3:|sha256:)?[0-9a-fA-F]{6,64}$/.test(q)) {
    const byHash = index.findByHash(q)
    if (byHash.length > 0) return byHash
  }
  if (q.includes('/') || q.includes('\\')) {
    const byPath = index.findByPath(q)
    if (byPath.length > 0) return byPath
  }
  return index.findByFilename(q)
}

/** Exactly one model, or MODEL_NOT_FOUND / MODEL_AMBIGUOUS naming the candidates. */
export function resolveModel (index: ModelIndex, query: string): IndexedModel {
  return onlyMatch(query, findModels(index, query))
}

/** The single model in `found`, or the error that explains why there is not exactly one. */
export function onlyMatch (query: string, found: IndexedModel[]): IndexedModel {
  if (found.length === 1) return found[0]
  if (found.length === 0) {
    throw new ComfydockError('MODEL_NOT_FOUND', `no model in the index matches "${query}"`, {
      hint: 'Run `comfydock model index sync` to pick up new files, or `comfydock model index find <text>` to search.',
    })
  }
  const names = found.slice(0, 5).map(m => `${m.hash} (${m.locations[0]?.relPath ?? 'not present'})`).join(', ')
  throw new ComfydockError('MODEL_AMBIGUOUS', `"${query}" matches ${found.length} models: ${names}${found.length > 5 ? ', …' : ''}`, {
    hint: 'Pass the short hash of the one you mean.',
  })
}

/** Free-text search for `model index find`: hash prefixes, then path and name substrings. */
export function searchModels (index: ModelIndex, query: string): IndexedModel[] {
  const exact = findModels(index, query)
  if (exact.length > 0) return exact
  const needle = query.toLowerCase()
  return index.list().filter(m => m.locations.some(l => l.relPath.toLowerCase().includes(needle)))
}
