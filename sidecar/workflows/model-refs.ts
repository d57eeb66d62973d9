/**
 * @module Model references of a graph: one per (node, input) that names a model file. Known loader inputs
 * (live object_info, else the built-in tables) give the folder; any other string value with a model file
 * extension counts too (folder from a matching declaration, else unknown); `embedding:NAME` in prompt text
 * names an embedding. Declarations only add folder, URL and hash to references a widget really makes.
 */
import type { Criticality } from '../manifest'
import { folderCriticality } from './criticality'
import type { GraphNode, ModelDeclaration, NodeMode, WorkflowGraph } from './graph-types'
import { builtinLoaderInputs, type LoaderInput } from './loader-table'

export interface ModelReference {
  node_id: string
  node_type: string
  /** Input (widget) name when known; null for a value found by its extension in an unnamed widget. */
  input: string | null
  /** Position in the UI node's widgets_values when known. */
  widget_index: number | null
  /** Verbatim widget value. */
  value: string
  /** The value with `\` as `/`: a path relative to the folder. */
  path: string
  folder: string | null
  criticality: Criticality
  declared_url: string | null
  declared_hash?: string
  mode: NodeMode
  /** How it was found: a loader table row, its file extension, or `embedding:` prompt syntax. */
  via: 'loader' | 'extension' | 'embedding'
}

/** Extensions ComfyUI's folder_paths accepts for model files, plus the GGUF/ONNX formats custom loaders use. */
export const MODEL_EXTENSIONS = ['.safetensors', '.ckpt', '.pt', '.pt2', '.pth', '.bin', '.pkl', '.sft', '.gguf', '.onnx']

export function hasModelExtension (value: string): boolean {
  const v = value.toLowerCase()
  return MODEL_EXTENSIONS.some(ext => v.endsWith(ext) && v.length > ext.length)
}

export const normalizeModelPath = (value: string): string => value.replace(/\\/g, '/').replace(/^\.?\/+/, '')
export const baseName = (value: string): string => normalizeModelPath(value).split('/').pop() ?? value

function urlBaseName (url: string): string {
  try { return decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '') } catch { return '' }
}

const isUsable = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '' && v.toLowerCase() !== 'none'

/**
 * A loader value names a file when its base name has an extension: built-in choices such as VAELoader's
 * "taesd" or "pixel_space" are not files. URLs and prose are never local file references.
 */
function looksLikeFile (v: string): boolean {
  return v.length <= 512 && !v.includes('\n') && !v.includes('://') && /\.[A-Za-z0-9]+$/.test(baseName(v.trim()))
}

function valueOf (node: GraphNode, row: LoaderInput): unknown {
  if (node.overrides && row.input in node.overrides) return node.overrides[row.input]
  if (node.inputs) return node.inputs[row.input]
  if (Array.isArray(node.widgets)) return node.widgets[row.index]
  return node.widgets?.[row.input]
}

/** Every string inside the node's values, with the input name or list position it sits under. */
function* strings (node: GraphNode): Generator<{ value: string, input: string | null, index: number | null }> {
  function* walk (v: unknown, input: string | null, index: number | null): Generator<{ value: string, input: string | null, index: number | null }> {
    if (typeof v === 'string') yield { value: v, input, index }
    else if (Array.isArray(v)) for (const x of v) yield * walk(x, input, index)
    else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) yield * walk(x, input ?? k, index)
  }
  if (Array.isArray(node.widgets)) for (let i = 0; i < node.widgets.length; i++) yield * walk(node.widgets[i], null, i)
  else if (node.widgets) for (const [k, x] of Object.entries(node.widgets)) yield * walk(x, k, null)
  for (const [k, x] of Object.entries(node.inputs ?? {})) yield * walk(x, k, null)
  for (const [k, x] of Object.entries(node.overrides ?? {})) yield * walk(x, k, null)
}

const EMBEDDING = /embedding:([^\s,()[\]{}<>|"']+)/gi

function findDeclaration (path: string, own: ModelDeclaration[], all: ModelDeclaration[]): ModelDeclaration | undefined {
  const name = baseName(path).toLowerCase()
  for (const list of [own, all]) {
    const byName = list.find(d => baseName(d.name).toLowerCase() === name)
    if (byName) return byName
  }
  // A declaration whose name is a placeholder but whose URL downloads exactly this file.
  for (const list of [own, all]) {
    const byUrl = list.find(d => d.url && urlBaseName(d.url).toLowerCase() === name)
    if (byUrl) return byUrl
  }
  return undefined
}

export interface RefOptions {
  /** Live model inputs per node type (from object_info); falls back to the built-in tables per type. */
  live?: Map<string, LoaderInput[]>
}

export function extractModelReferences (graph: WorkflowGraph, opts: RefOptions = {}): ModelReference[] {
  const out: ModelReference[] = []
  for (const node of graph.nodes) {
    const seen = new Set<string>()
    const add = (ref: Omit<ModelReference, 'path' | 'criticality' | 'declared_url' | 'node_id' | 'node_type' | 'mode'>) => {
      const key = `${ref.input ?? ref.widget_index}\0${ref.value}`
      if (seen.has(key) || seen.has(`*\0${ref.value}`)) return
      seen.add(key)
      seen.add(`*\0${ref.value}`)
      const path = normalizeModelPath(ref.value)
      const decl = findDeclaration(path, node.declarations, graph.declarations)
      const folder = ref.folder ?? decl?.directory ?? null
      const full: ModelReference = {
        node_id: node.id,
        node_type: node.type,
        ...ref,
        path,
        folder,
        criticality: node.mode === 'active' ? folderCriticality(folder) : 'optional',
        declared_url: decl?.url ?? null,
        mode: node.mode,
      }
      if (decl?.hash) full.declared_hash = decl.hash
      out.push(full)
    }
    const rows = opts.live?.get(node.type) ?? builtinLoaderInputs(node.type) ?? []
    for (const row of rows) {
      const v = valueOf(node, row)
      if (isUsable(v) && looksLikeFile(v)) add({ input: row.input, widget_index: node.widgets ? row.index : null, value: v, folder: row.folder, via: 'loader' })
    }
    const covered = new Set(rows.map(r => r.input))
    const coveredIdx = new Set(rows.map(r => r.index))
    for (const s of strings(node)) {
      if (s.input !== null && covered.has(s.input)) continue
      if (s.index !== null && Array.isArray(node.widgets) && coveredIdx.has(s.index) && rows.length > 0) continue
      if (hasModelExtension(s.value.trim()) && looksLikeFile(s.value)) {
        add({ input: s.input, widget_index: s.index, value: s.value.trim(), folder: null, via: 'extension' })
      }
      for (const m of s.value.matchAll(EMBEDDING)) {
        add({ input: s.input, widget_index: s.index, value: m[1].replace(/[.:;]+$/, ''), folder: 'embeddings', via: 'embedding' })
      }
    }
  }
  return out
}
