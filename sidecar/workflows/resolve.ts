/**
 * @module A workflow's full resolution in an environment: each custom node type to a pack (through the
 * nodes resolver), each model to an indexed file, and the issues left with the command that fixes each.
 */
import type { WorkflowEntry } from '../manifest'
import { readManifest } from '../manifest'
import { ModelIndex } from '../models/model-index'
import { createNodeResolver, type NodeResolver, type NodeTypeResolution, type PackCandidate } from '../nodes/resolver/create-node-resolver'
import { pickCandidate } from '../nodes/resolver/pick-candidate'
import type { OnProgress } from '../protocol'
import type { EnvPaths, Workspace } from '../workspace'
import { summarizeModels, type WorkflowAnalysis } from './analyze'
import type { ModelLists, ObjectInfo } from './loader-table'
import { ModelLookup, resolveModel, type ModelCandidate, type ModelResolution } from './resolve-models'

export interface NodeTypeState {
  type: string
  status: 'core' | 'resolved' | 'optional' | 'ambiguous' | 'unresolved'
  pack?: string
  version?: string
  installed?: boolean
  candidates?: string[]
}

export interface WorkflowIssue {
  kind: 'model' | 'node'
  subject: string
  message: string
  /** The command that fixes it. */
  fix: string
}

export interface WorkflowResolution {
  name: string
  nodes: NodeTypeState[]
  models: ModelResolution[]
  /** Problems that block a commit (unless allowed): unknown or uninstalled packs, missing or ambiguous required models. */
  issues: WorkflowIssue[]
  /** Things done for the user that they should see (e.g. a pack picked with --yes). */
  notes: string[]
}

export interface ResolveOptions {
  /** Never choose among several candidates; say so instead. */
  yes?: boolean
  /** Interactive model choice: returns the chosen candidate, or undefined to skip. */
  chooseModel?: (model: ModelResolution, candidates: ModelCandidate[]) => Promise<ModelCandidate | undefined>
  /** Interactive pack choice for a node type several packs provide. */
  choosePack?: (res: NodeTypeResolution) => Promise<PackCandidate | undefined>
  objectInfo?: ObjectInfo
  modelLists?: ModelLists
  /** false: resolve node types from local sources only. */
  network?: boolean
  onProgress?: OnProgress
  signal?: AbortSignal
  /** An open model index to reuse across many workflows (the caller closes it). */
  modelIndex?: ModelIndex
  /** A node resolver to reuse across many workflows: installed packs, mappings and registry answers are read once. */
  nodeResolver?: NodeResolver
}

async function resolveNodeTypes (ws: Workspace, env: EnvPaths, name: string, a: WorkflowAnalysis, opts: ResolveOptions, notes: string[]): Promise<NodeTypeState[]> {
  const out: NodeTypeState[] = []
  const custom = new Map<string, { type: string, cnrId?: string, auxId?: string, ver?: string, inputs?: Record<string, string> }>()
  for (const n of a.nodes) {
    if (n.core) continue
    const q = custom.get(n.type) ?? { type: n.type }
    if (n.inputs && !q.inputs) q.inputs = n.inputs
    if (n.pack && !q.cnrId && !q.auxId) {
      if (n.pack.includes('/')) q.auxId = n.pack
      else q.cnrId = n.pack
      if (n.version) q.ver = n.version
    }
    custom.set(n.type, q)
  }
  for (const t of [...new Set(a.nodes.filter(n => n.core).map(n => n.type))].sort()) out.push({ type: t, status: 'core' })
  if (custom.size === 0) return out
  const resolver = opts.nodeResolver ?? createNodeResolver(ws, env, { objectInfo: opts.objectInfo, network: opts.network, onProgress: opts.onProgress, signal: opts.signal })
  const results = await resolver.resolve([...custom.values()].map(q => ({ ...q, workflow: name })))
  for (const res of results) {
    if (res.core) { out.push({ type: res.type, status: 'core' }); continue }
    if (res.optional) { out.push({ type: res.type, status: 'optional' }); continue }
    try {
      const pick = await pickCandidate(res, { yes: opts.yes, choose: opts.choosePack })
      if (!pick) {
        out.push({ type: res.type, status: res.candidates.length ? 'ambiguous' : 'unresolved', candidates: res.candidates.map(c => c.packId) })
        continue
      }
      if (pick.message) notes.push(pick.message)
      const s: NodeTypeState = { type: res.type, status: 'resolved', pack: pick.candidate.packId, installed: pick.candidate.installed }
      if (pick.candidate.version) s.version = pick.candidate.version
      out.push(s)
    } catch {
      out.push({ type: res.type, status: 'ambiguous', candidates: res.candidates.map(c => c.packId) })
    }
  }
  return out.sort((x, y) => x.type.localeCompare(y.type))
}

export function issuesOf (name: string, nodes: NodeTypeState[], models: ModelResolution[]): WorkflowIssue[] {
  const issues: WorkflowIssue[] = []
  for (const n of nodes) {
    if (n.status === 'unresolved') {
      issues.push({ kind: 'node', subject: n.type, message: `no known pack provides node type "${n.type}"`, fix: `comfydock node add <pack>, or mark it optional in [tool.comfydock.workflows.${name}.custom_node_map]` })
    } else if (n.status === 'ambiguous') {
      issues.push({ kind: 'node', subject: n.type, message: `several packs provide "${n.type}": ${n.candidates?.join(', ')}`, fix: `comfydock workflow resolve ${name}` })
    } else if (n.status === 'resolved' && !n.installed) {
      issues.push({ kind: 'node', subject: n.type, message: `pack "${n.pack}" (for ${n.type}) is not installed`, fix: `comfydock node add ${n.pack}` })
    }
  }
  for (const m of models) {
    if (m.status === 'resolved' || m.criticality === 'optional') continue
    const what = `${m.folder ?? '?'}/${m.path}`
    if (m.status === 'ambiguous') {
      issues.push({ kind: 'model', subject: what, message: `${what} matches ${m.candidates?.length} different files`, fix: `comfydock workflow resolve ${name}` })
    } else if (m.download) {
      issues.push({ kind: 'model', subject: what, message: `${what} is missing (downloadable from ${m.download.url})`, fix: `comfydock workflow resolve ${name} --install` })
    } else {
      issues.push({ kind: 'model', subject: what, message: `${what} is missing and no download source is known`, fix: `put the file in models/${m.folder ?? '<folder>'}/ and run \`comfydock model index sync\`, or \`comfydock workflow model importance ${name} ${m.filename} optional\`` })
    }
  }
  return issues
}

/** Resolves an analysed workflow against the environment; asks the callbacks only for real ambiguities. */
export async function resolveAnalysis (ws: Workspace, env: EnvPaths, name: string, a: WorkflowAnalysis, opts: ResolveOptions = {}, previous?: WorkflowEntry): Promise<WorkflowResolution> {
  const notes: string[] = []
  const nodes = await resolveNodeTypes(ws, env, name, a, opts, notes)
  const index = opts.modelIndex ?? ModelIndex.open(ws)
  const models: ModelResolution[] = []
  try {
    const lookup = new ModelLookup(index)
    const importance = (previous?.model_importance ?? {}) as Record<string, string>
    for (const s of summarizeModels(a.models)) {
      const filename = s.path.split('/').pop()!
      const user = importance[filename]
      if (user === 'optional' || user === 'flexible' || user === 'required') s.criticality = user
      const prev = previous?.models?.find(m => m.filename === filename && (!s.folder || m.category === s.folder))
      const r = resolveModel(lookup, s, prev)
      if (r.status === 'ambiguous' && r.candidates && opts.chooseModel && !opts.yes) {
        const chosen = await opts.chooseModel(r, r.candidates)
        if (chosen) Object.assign(r, { status: 'resolved', match: 'chosen', hash: chosen.hash, relative_path: chosen.relative_path, size: chosen.size, candidates: undefined })
      } else if (r.status === 'ambiguous' && opts.yes) {
        notes.push(`${r.folder ?? '?'}/${r.path}: ${r.candidates?.length} files match; left unresolved (--yes never picks a model)`)
      }
      models.push(r)
    }
  } finally {
    if (!opts.modelIndex) index.close()
  }
  return { name, nodes, models, issues: issuesOf(name, nodes, models), notes }
}

/**
 * The workflow's entry in the manifest. A model resolved earlier carries only its hash; its download
 * sources and path live in the global models table, so they are copied in: when the file goes missing
 * (an import, a deleted file) the reference becomes a download intent instead of a dead end.
 */
export async function previousEntry (env: EnvPaths, name: string): Promise<WorkflowEntry | undefined> {
  const tool = (await readManifest(env.pyproject)).tool.comfydock
  const entry = tool.workflows?.[name]
  if (!entry?.models) return entry
  return {
    ...entry,
    models: entry.models.map(m => {
      const global = m.hash ? tool.models?.[m.hash] : undefined
      if (!global) return m
      return { ...m, sources: m.sources?.length ? m.sources : global.sources, relative_path: m.relative_path ?? global.relative_path }
    }),
  }
}
