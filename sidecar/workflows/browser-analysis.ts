/**
 * @module The open tabs as the browser holds them, checked against what the user's ComfyUI has (its
 * object_info and model lists) and against the last commit. The sidecar's `workflows.analyze` calls this.
 */
import { toErrorPayload } from '../errors'
import { openGit } from '../git'
import { readManifest, type Pyproject } from '../manifest'
import { createNodeResolver } from '../nodes'
import type { MissingModel, MissingNode, WorkflowAnalysisResult, WorkflowInput } from '../protocol'
import type { EnvPaths, Workspace } from '../workspace'
import { analyzeWorkflow } from './analyze'
import { parseLenientJson } from './lenient-json'
import type { ModelLists, ObjectInfo } from './loader-table'
import { comparableWorkflow } from './normalize'
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

function missingIn (wf: WorkflowInput, known: Map<string, KnownSource>, objectInfo?: ObjectInfo, modelLists?: ModelLists): { models: MissingModel[], nodes: MissingNode[] } {
  const analysis = analyzeWorkflow(wf.json, { file: wf.name, objectInfo, modelLists })
  const models: MissingModel[] = []
  if (modelLists) {
    for (const r of analysis.models) {
      if (!r.folder || !modelLists[r.folder]) continue
      const have = modelLists[r.folder].some(f => f.replace(/\\/g, '/') === r.path)
      if (have) continue
      const k = known.get(r.value) ?? known.get(r.path) ?? {}
      const url = r.declared_url ?? k.url
      const hash = r.declared_hash ?? k.hash
      models.push({ nodeId: r.node_id, nodeType: r.node_type, ...(r.input ? { input: r.input } : {}), value: r.value, folder: r.folder, criticality: r.criticality, ...(url ? { url } : {}), ...(hash ? { hash } : {}) })
    }
  }
  const nodes: MissingNode[] = []
  if (objectInfo) {
    const seen = new Set<string>()
    for (const n of analysis.nodes) {
      if (objectInfo[n.type] || seen.has(n.type)) continue
      seen.add(n.type)
      nodes.push({ type: n.type, ...(n.pack ? { pack: n.pack } : {}) })
    }
  }
  return { models, nodes }
}

/**
 * Packs suggested for node types the workflow itself does not name a pack for, asked once per type
 * and sidecar run: the panel re-analyses on every edit, the registry should not hear about each one.
 */
const suggestions = new Map<string, string[]>()

async function suggestPacks (ws: Workspace, env: EnvPaths, nodes: MissingNode[], objectInfo?: ObjectInfo): Promise<void> {
  const unknown = [...new Set(nodes.filter(n => !n.pack).map(n => n.type))]
  const key = (type: string): string => `${ws.root}\0${env.name}\0${type}`
  const ask = unknown.filter(t => !suggestions.has(key(t)))
  if (ask.length) {
    const resolver = createNodeResolver(ws, env, { objectInfo: objectInfo as Record<string, { python_module?: string }> | undefined })
    try {
      for (const r of await resolver.resolve(ask.map(type => ({ type })))) {
        suggestions.set(key(r.type), r.candidates.map(c => c.packId))
      }
    } catch {
      return // suggestions are a convenience: the panel still lists the missing types
    }
  }
  for (const n of nodes) {
    const found = n.pack ? undefined : suggestions.get(key(n.type))
    if (!found?.length) continue
    n.pack = found[0]
    if (found.length > 1) n.alternatives = found.slice(1)
  }
}

export interface BrowserAnalysisInput {
  workflows: WorkflowInput[]
  objectInfo?: ObjectInfo
  modelLists?: ModelLists
}

export async function analyzeBrowserWorkflows (ws: Workspace, env: EnvPaths, input: BrowserAnalysisInput): Promise<WorkflowAnalysisResult[]> {
  const doc = await readManifest(env.pyproject)
  const tracked = new Set(Object.keys(doc.tool.comfydock.workflows ?? {}))
  const known = knownSources(doc)
  const git = openGit(env.cec)
  const out: WorkflowAnalysisResult[] = []
  for (const wf of input.workflows) {
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
      const missing = missingIn(wf, known, input.objectInfo, input.modelLists)
      if (missing.nodes.length) await suggestPacks(ws, env, missing.nodes, input.objectInfo)
      out.push({ ...base, missingModels: missing.models, missingNodes: missing.nodes })
    } catch (err) {
      out.push({ ...base, missingModels: [], missingNodes: [], error: toErrorPayload(err) })
    }
  }
  return out
}
