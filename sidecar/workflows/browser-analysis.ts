/**
 * @module The open tabs as the browser holds them, checked against what the user's ComfyUI has (its
 * object_info and model lists) and against the last commit. The sidecar's `workflows.analyze` calls this.
 */
import { toErrorPayload } from '../errors'
import { openGit } from '../git'
import { readManifest, type Pyproject } from '../manifest'
import { ModelIndex } from '../models'
import { createNodeResolver } from '../nodes'
import { loadInstalledPacks, type InstalledPacks } from '../nodes/resolver/installed-packs'
import type { LoadFailure, MissingModel, MissingNode, WorkflowAnalysisResult, WorkflowInput } from '../protocol'
import type { EnvPaths, Workspace } from '../workspace'
import { parseLenientJson } from './lenient-json'
import type { ModelLists, ObjectInfo } from './loader-table'
import { comparableWorkflow } from './normalize'
import type { NodeTypeState } from './resolve'
import type { ModelResolution } from './resolve-models'
import { cachedResolution, lacksOf } from './status'
import { readUserWorkflow } from './store'
import { sameWorkflow } from './tracking'

interface KnownSource { url?: string, hash?: string }

/** What the manifest knows about a model value (an imported environment carries sources and hashes). */
function knownSources (doc: Pyproject): Map<string, KnownSource> {
  const global = doc.tool.comfydock.models ?? {}
  const out = new Map<string, KnownSource>()
  for (const wf of Object.values(doc.tool.comfydock.workflows ?? {})) {
    for (const m of wf.models ?? []) {
      const url = m.sources?.[0] ?? (m.hash ? global[m.hash]?.sources?.[0] : undefined)
      const known: KnownSource = { ...(url ? { url } : {}), ...(m.hash ? { hash: m.hash } : {}) }
      for (const ref of m.nodes ?? []) if (!out.has(ref.widget_value)) out.set(ref.widget_value, known)
      if (!out.has(m.filename)) out.set(m.filename, known)
    }
  }
  return out
}

/** As the panel lists it: the first node that uses the model, its declared or known source. */
function missingModel (m: ModelResolution, known: Map<string, KnownSource>): MissingModel {
  const ref = m.refs[0]
  const k = known.get(ref?.widget_value ?? m.path) ?? known.get(m.path) ?? known.get(m.filename) ?? {}
  const url = m.download?.url ?? m.declared_url ?? k.url
  const hash = m.hash ?? k.hash
  return {
    nodeId: ref?.node_id ?? '',
    nodeType: ref?.node_type ?? '',
    ...(ref?.input ? { input: ref.input } : {}),
    value: ref?.widget_value ?? m.path,
    ...(m.folder ? { folder: m.folder } : {}),
    criticality: m.criticality,
    ...(url ? { url } : {}),
    ...(hash ? { hash } : {}),
  }
}

function missingNode (n: NodeTypeState): MissingNode {
  const pack = n.pack ?? n.candidates?.[0]
  const others = n.pack ? [] : (n.candidates ?? []).slice(1)
  return { type: n.type, ...(pack ? { pack } : {}), ...(others.length ? { alternatives: others } : {}) }
}

/**
 * Node types whose pack is installed but that this ComfyUI does not have: the pack failed to import
 * (the reason from ComfyUI's log when the bridge read it), or ComfyUI has not loaded it since it was installed.
 */
function notLoaded (nodes: NodeTypeState[], objectInfo: ObjectInfo | undefined, installed: InstalledPacks, failures: LoadFailure[]): MissingNode[] {
  if (!objectInfo) return []
  const out: MissingNode[] = []
  for (const n of nodes) {
    if (n.status !== 'resolved' || !n.installed || !n.pack || objectInfo[n.type]) continue
    const folder = installed.find(n.pack)?.folder
    const failure = failures.find(f => f.folder === folder || f.folder === n.pack)
    out.push({
      type: n.type,
      pack: n.pack,
      loadError: failure?.reason.trim() || `ComfyUI has no node type "${n.type}" (not in /object_info): the pack did not load; restart ComfyUI, and if it stays missing see ComfyUI's log for ${folder ?? n.pack}`,
    })
  }
  return out
}

export interface BrowserAnalysisInput {
  workflows: WorkflowInput[]
  objectInfo?: ObjectInfo
  modelLists?: ModelLists
  /** Packs ComfyUI failed to import (from its log, through the bridge). */
  loadFailures?: LoadFailure[]
}

export async function analyzeBrowserWorkflows (ws: Workspace, env: EnvPaths, input: BrowserAnalysisInput): Promise<WorkflowAnalysisResult[]> {
  const doc = await readManifest(env.pyproject)
  const tracked = new Set(Object.keys(doc.tool.comfydock.workflows ?? {}))
  const known = knownSources(doc)
  const git = openGit(env.cec)
  const out: WorkflowAnalysisResult[] = []
  // one resolver and one model index for every tab, as `status` shares them across workflows
  const resolver = createNodeResolver(ws, env, { objectInfo: input.objectInfo as Record<string, { python_module?: string }> | undefined })
  let index: ModelIndex | undefined
  const shared = (): ModelIndex => (index ??= ModelIndex.open(ws))
  let installed: InstalledPacks | undefined
  try {
    for (const wf of input.workflows) out.push(await analyzeOne(wf))
  } finally {
    index?.close()
  }
  return out

  async function analyzeOne (wf: WorkflowInput): Promise<WorkflowAnalysisResult> {
    const committed = await git.show('HEAD', `workflows/${wf.name}.json`)
    const isTracked = tracked.has(wf.name) || committed !== null
    let differs = true
    if (committed !== null) {
      const file = wf.saved ? await readUserWorkflow(env, wf.name) : null
      if (file) differs = !sameWorkflow(file, Buffer.from(committed, 'utf8'))
      else try { differs = comparableWorkflow(parseLenientJson(committed)) !== comparableWorkflow(wf.json) } catch { differs = true }
    }
    const base = { name: wf.name, tracked: isTracked, differsFromCommit: differs }
    try {
      // the same core call as `status`: what the two report about a workflow cannot disagree
      const bytes = Buffer.from(JSON.stringify(wf.json), 'utf8')
      const r = await cachedResolution(ws, env, wf.name, bytes, undefined, '', { objectInfo: input.objectInfo, modelLists: input.modelLists }, shared, resolver)
      const lacks = lacksOf(r)
      installed ??= await loadInstalledPacks(env)
      return {
        ...base,
        missingModels: lacks.missing_models.map(m => missingModel(m, known)),
        missingNodes: [...lacks.missing_nodes.map(missingNode), ...notLoaded(r.nodes, input.objectInfo, installed, input.loadFailures ?? [])],
      }
    } catch (err) {
      return { ...base, missingModels: [], missingNodes: [], error: toErrorPayload(err) }
    }
  }
}
