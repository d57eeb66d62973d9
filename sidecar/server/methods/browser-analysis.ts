/**
 * @module `workflows.analyze`: the open tabs as the browser holds them, checked against what this
 * ComfyUI has (the browser's object_info and model lists) and against the last commit.
 */
import { openGit } from '../../git'
import { readManifest } from '../../manifest'
import { toErrorPayload } from '../../errors'
import type { MissingModel, MissingNode, WorkflowAnalysisResult, WorkflowInput } from '../../protocol'
import { analyzeWorkflow, comparableWorkflow, parseLenientJson, type ModelLists, type ObjectInfo } from '../../workflows'
import type { MethodTable } from './types'

function missingIn (wf: WorkflowInput, objectInfo?: ObjectInfo, modelLists?: ModelLists): { models: MissingModel[], nodes: MissingNode[] } {
  const analysis = analyzeWorkflow(wf.json, { file: wf.name, objectInfo, modelLists })
  const models: MissingModel[] = []
  if (modelLists) {
    for (const r of analysis.models) {
      if (!r.folder || !modelLists[r.folder]) continue
      const have = modelLists[r.folder].some(f => f.replace(/\\/g, '/') === r.path)
      if (have) continue
      models.push({ nodeId: r.node_id, nodeType: r.node_type, ...(r.input ? { input: r.input } : {}), value: r.value, folder: r.folder, criticality: r.criticality, ...(r.declared_url ? { url: r.declared_url } : {}) })
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

export const browserAnalysisMethods: MethodTable = {
  'workflows.analyze': {
    scope: 'env',
    async run (ctx, params) {
      const doc = await readManifest(ctx.env.pyproject)
      const tracked = new Set(Object.keys(doc.tool.comfydock.workflows ?? {}))
      const git = openGit(ctx.env.cec)
      const out: WorkflowAnalysisResult[] = []
      for (const wf of params.workflows) {
        const committed = await git.show('HEAD', `workflows/${wf.name}.json`)
        const isTracked = tracked.has(wf.name) || committed !== null
        let differs = true
        if (committed !== null) {
          try { differs = comparableWorkflow(parseLenientJson(committed)) !== comparableWorkflow(wf.json) } catch { differs = true }
        }
        const base = { name: wf.name, tracked: isTracked, differsFromCommit: differs }
        try {
          const missing = missingIn(wf, params.objectInfo as ObjectInfo | undefined, params.modelLists)
          out.push({ ...base, missingModels: missing.models, missingNodes: missing.nodes })
        } catch (err) {
          out.push({ ...base, missingModels: [], missingNodes: [], error: toErrorPayload(err) })
        }
      }
      return out
    },
  },
}
