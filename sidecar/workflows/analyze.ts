/**
 * @module analyzeWorkflow: any workflow input → its node types (core or custom, with the pack when known)
 * and model references. Needs no workspace; a live object_info + model lists (from the browser) sharpen it.
 */
import type { Criticality } from '../manifest'
import { folderCriticality, strongest } from './criticality'
import type { ModelDeclaration, NodeMode } from './graph-types'
import { loadWorkflow, type InputFormat } from './load'
import { isBuiltinCoreType, liveLoaderInputs, type ModelLists, type ObjectInfo } from './loader-table'
import { extractModelReferences, type ModelReference } from './model-refs'

export interface AnalyzeOptions {
  /** Shown in results and errors. */
  file?: string
  /** A live `/api/object_info`: core/custom classification and model inputs of any installed node. */
  objectInfo?: ObjectInfo
  /** Live `/api/models/<folder>` lists, used with objectInfo to find model inputs. */
  modelLists?: ModelLists
}

export interface AnalyzedNode {
  id: string
  type: string
  core: boolean
  /** The node pack: `properties.cnr_id` / `aux_id`, or the custom_nodes folder from a live object_info. */
  pack: string | null
  mode: NodeMode
  version?: string
  /** Custom nodes: input slots (name → type), used to tell packs apart that share a node type name. */
  inputs?: Record<string, string>
}

export interface WorkflowAnalysis {
  file: string
  format: InputFormat
  nodes: AnalyzedNode[]
  models: ModelReference[]
  /** Unique node types, sorted. */
  node_types: string[]
  declared_models: ModelDeclaration[]
  excluded_types: string[]
  unused_definitions: string[]
  embedded?: string[]
}

function packFromModule (module: unknown): string | null {
  const m = /^custom_nodes\.([^.]+)/.exec(String(module ?? ''))
  return m ? m[1] : null
}

/** A value an unknown node shares with a known loader in the same workflow is the same file in the same folder. */
function inheritFolders (refs: ModelReference[]): ModelReference[] {
  const known = new Map<string, string>()
  for (const r of refs) if (r.folder && r.via === 'loader') known.set(r.path.toLowerCase(), r.folder)
  for (const r of refs) {
    if (r.folder) continue
    const folder = known.get(r.path.toLowerCase())
    if (folder) {
      r.folder = folder
      if (r.mode === 'active') r.criticality = folderCriticality(folder)
    }
  }
  return refs
}

export function analyzeWorkflow (input: Buffer | Uint8Array | string | object, opts: AnalyzeOptions = {}): WorkflowAnalysis {
  const file = opts.file ?? '<input>'
  const loaded = loadWorkflow(input, file)
  const { graph } = loaded
  const live = opts.objectInfo && opts.modelLists ? liveLoaderInputs(opts.objectInfo, opts.modelLists) : undefined
  const nodes: AnalyzedNode[] = graph.nodes.map(n => {
    const info = opts.objectInfo?.[n.type]
    const livePack = info ? packFromModule(info.python_module) : null
    const core = info ? livePack === null : (n.cnrId === 'comfy-core' || (isBuiltinCoreType(n.type) && !n.auxId && (!n.cnrId || n.cnrId === 'comfy-core')))
    const pack = core ? null : (n.cnrId ?? n.auxId ?? livePack)
    const out: AnalyzedNode = { id: n.id, type: n.type, core, pack, mode: n.mode }
    if (n.ver) out.version = n.ver
    if (!core && n.inputTypes) out.inputs = n.inputTypes
    return out
  })
  const seenDecl = new Set<string>()
  const declared = graph.declarations.filter(d => {
    const k = `${d.name}\0${d.directory ?? ''}\0${d.url ?? ''}`
    if (seenDecl.has(k)) return false
    seenDecl.add(k)
    return true
  })
  const result: WorkflowAnalysis = {
    file,
    format: loaded.format,
    nodes,
    models: inheritFolders(extractModelReferences(graph, { live })),
    node_types: [...new Set(nodes.map(n => n.type))].sort(),
    declared_models: declared,
    excluded_types: graph.excludedTypes,
    unused_definitions: graph.unusedDefinitions,
  }
  if (loaded.embedded) result.embedded = loaded.embedded
  return result
}

export interface WorkflowModelSummary {
  folder: string | null
  path: string
  criticality: Criticality
  declared_url: string | null
  declared_hash?: string
  refs: ModelReference[]
}

/** The distinct models of an analysis (one per folder + path), with the strongest criticality of their uses. */
export function summarizeModels (refs: ModelReference[]): WorkflowModelSummary[] {
  const byKey = new Map<string, WorkflowModelSummary>()
  for (const r of refs) {
    const key = `${r.folder ?? ''}\0${r.path}`
    const cur = byKey.get(key)
    if (!cur) {
      const s: WorkflowModelSummary = { folder: r.folder, path: r.path, criticality: r.criticality, declared_url: r.declared_url, refs: [r] }
      if (r.declared_hash) s.declared_hash = r.declared_hash
      byKey.set(key, s)
      continue
    }
    cur.criticality = strongest(cur.criticality, r.criticality)
    cur.declared_url ??= r.declared_url
    if (r.declared_hash) cur.declared_hash ??= r.declared_hash
    cur.refs.push(r)
  }
  return [...byKey.values()]
}
