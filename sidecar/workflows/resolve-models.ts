/**
 * @module Model references → files in the workspace model index. Order: the environment's earlier
 * resolution (its hash still indexed), the declared hash, the exact relative path in its folder, a
 * folder-aware match (legacy folder names, case, other subfolder), then the file name anywhere. Several
 * different files at one step are an ambiguity, never a silent pick; an unresolved model with a URL
 * becomes a download intent.
 */
import type { Criticality, WorkflowModelEntry } from '../manifest'
import type { IndexedModel, ModelIndex } from '../models'
import type { WorkflowModelSummary } from './analyze'
import { baseName } from './model-refs'

export interface ModelCandidate {
  hash: string
  relative_path: string
  size: number
}

export type ModelMatch = 'context' | 'hash' | 'path' | 'folder' | 'filename' | 'chosen'

export interface ModelResolution {
  filename: string
  /** Path as the widget names it, relative to its folder. */
  path: string
  folder: string | null
  criticality: Criticality
  declared_url: string | null
  status: 'resolved' | 'ambiguous' | 'unresolved'
  match?: ModelMatch
  hash?: string
  relative_path?: string
  size?: number
  candidates?: ModelCandidate[]
  /**
   * Resolved to a file with other bytes than the model this workflow committed (the same name, another
   * version): the committed model's hash. Neither `ok` nor missing: a commit records the new file.
   */
  replaces?: string
  /** Unresolved but downloadable: where it would go. */
  download?: { url: string, relative_path: string }
  refs: Array<{ node_id: string, node_type: string, widget_idx: number | null, input: string | null, widget_value: string }>
}

/** Legacy disk folders ComfyUI still reads for the new folder names. */
const FOLDER_ALIASES: Record<string, string[]> = { text_encoders: ['clip'], diffusion_models: ['unet'], controlnet: ['t2i_adapter'], clip: ['text_encoders'], unet: ['diffusion_models'] }
const EMBEDDING_EXTENSIONS = ['.safetensors', '.pt', '.bin', '.pth']

const candidateOf = (m: IndexedModel, prefer?: (rel: string) => boolean): ModelCandidate => {
  const loc = m.locations.find(l => prefer?.(l.relPath)) ?? m.locations[0]
  return { hash: m.hash, relative_path: loc?.relPath ?? '', size: m.size }
}

function distinct (models: IndexedModel[]): IndexedModel[] {
  const seen = new Map<string, IndexedModel>()
  for (const m of models) if (!seen.has(m.hash)) seen.set(m.hash, m)
  return [...seen.values()]
}

export class ModelLookup {
  private folderLists = new Map<string, IndexedModel[]>()
  constructor (readonly index: ModelIndex) {}

  folders (folder: string): string[] {
    return [folder, ...(FOLDER_ALIASES[folder] ?? [])]
  }

  private inFolder (folder: string): IndexedModel[] {
    let list = this.folderLists.get(folder)
    if (!list) this.folderLists.set(folder, list = this.index.list({ folder }))
    return list
  }

  byHash (hash: string): IndexedModel[] {
    return distinct(this.index.findByHash(hash))
  }

  byPath (folder: string, path: string): IndexedModel[] {
    return distinct(this.folders(folder).flatMap(f => this.index.findByPath(`${f}/${path}`)))
  }

  /** Same folder (or its legacy alias): the path ignoring case, else the same file name in another subfolder. */
  byFolder (folder: string, path: string): IndexedModel[] {
    const lowerPaths = new Set(this.folders(folder).map(f => `${f}/${path}`.toLowerCase()))
    const name = baseName(path).toLowerCase()
    const all = this.folders(folder).flatMap(f => this.inFolder(f))
    const exact = all.filter(m => m.locations.some(l => lowerPaths.has(l.relPath.toLowerCase())))
    if (exact.length) return distinct(exact)
    return distinct(all.filter(m => m.locations.some(l => baseName(l.relPath).toLowerCase() === name)))
  }

  byFilename (path: string): IndexedModel[] {
    return distinct(this.index.findByFilename(baseName(path)))
  }
}

function steps (lookup: ModelLookup, s: WorkflowModelSummary): Array<[ModelMatch, () => IndexedModel[]]> {
  const out: Array<[ModelMatch, () => IndexedModel[]]> = []
  if (s.declared_hash) out.push(['hash', () => lookup.byHash(s.declared_hash!)])
  const paths = s.folder === 'embeddings' && !/\.[a-z0-9]+$/i.test(s.path) ? EMBEDDING_EXTENSIONS.map(e => s.path + e) : [s.path]
  if (s.folder) {
    const folder = s.folder
    out.push(['path', () => distinct(paths.flatMap(p => lookup.byPath(folder, p)))])
    out.push(['folder', () => distinct(paths.flatMap(p => lookup.byFolder(folder, p)))])
  }
  out.push(['filename', () => distinct(paths.flatMap(p => lookup.byFilename(p)))])
  return out
}

/** Several files share a name: the one whose path ends with the widget's subfolder path is the one meant. */
function narrowBySubfolder (found: IndexedModel[], path: string): IndexedModel[] {
  if (found.length < 2 || !path.includes('/')) return found
  const suffix = `/${path}`.toLowerCase()
  const hits = found.filter(m => m.locations.some(l => l.relPath.toLowerCase().endsWith(suffix)))
  return hits.length ? hits : found
}

export function resolveModel (lookup: ModelLookup, s: WorkflowModelSummary, previous?: WorkflowModelEntry): ModelResolution {
  const res: ModelResolution = {
    filename: baseName(s.path),
    path: s.path,
    folder: s.folder,
    criticality: s.criticality,
    declared_url: s.declared_url,
    status: 'unresolved',
    refs: s.refs.map(r => ({ node_id: r.node_id, node_type: r.node_type, widget_idx: r.widget_index, input: r.input, widget_value: r.value })),
  }
  const inFolder = (rel: string) => s.folder ? lookup.folders(s.folder).some(f => rel.startsWith(`${f}/`)) : false
  const committed = previous?.status === 'resolved' ? previous.hash : undefined
  const take = (m: IndexedModel, match: ModelMatch) => {
    const c = candidateOf(m, inFolder)
    Object.assign(res, { status: 'resolved', match, hash: c.hash, relative_path: c.relative_path, size: c.size })
    if (committed && c.hash !== committed) res.replaces = committed
    return res
  }
  // An earlier resolution (possibly the user's choice) stands while its file is still indexed.
  if (committed) {
    const m = lookup.index.get(committed)
    if (m && m.locations.length) return take(m, 'context')
  }
  for (const [match, find] of steps(lookup, s)) {
    const found = narrowBySubfolder(find(), s.path)
    if (found.length === 1) return take(found[0], match)
    if (found.length > 1) {
      res.status = 'ambiguous'
      res.match = match
      res.candidates = found.map(m => candidateOf(m, inFolder)).sort((a, b) => a.relative_path.localeCompare(b.relative_path))
      return res
    }
  }
  const url = s.declared_url ?? previous?.sources?.[0]
  const target = previous?.relative_path ?? (s.folder ? `${s.folder}/${s.path}` : undefined)
  if (url && target) res.download = { url, relative_path: target }
  return res
}
