/**
 * @module `workflow resolve NAME`: resolve a workflow with the user's choices, optionally install the packs
 * and download the models it is missing, and record the result in its pyproject entry right away (so a
 * choice is never asked twice). Untracked workflows are resolved and reported, not written.
 */
import { ComfydockError } from '../errors'
import { withManifestTransaction, writeManifest } from '../manifest'
import { downloadModel, ModelIndex } from '../models'
import { addNodes } from '../nodes'
import type { EnvPaths, Workspace } from '../workspace'
import { analyzeWorkflow } from './analyze'
import { mergeGlobalModels, workflowEntry } from './manifest-entry'
import { previousEntry, resolveAnalysis, type ResolveOptions, type WorkflowResolution } from './resolve'
import { currentContent, readBrowserWorkflows } from './live-copy'
import { assertWorkflowName } from './store'

export interface ResolveWorkflowOptions extends ResolveOptions {
  /** Install missing packs and download missing models with a known source. */
  install?: boolean
  /** The workflow's JSON as the browser holds it, instead of the saved file. */
  content?: unknown
  /** Report only: install nothing, write nothing (`workflow show`). */
  dryRun?: boolean
}

export interface ResolveWorkflowResult extends WorkflowResolution {
  tracked: boolean
  installed: { packs: string[], models: string[] }
  failed: Array<{ kind: 'pack' | 'model', subject: string, message: string }>
}

async function loadBytes (env: EnvPaths, name: string, content: unknown): Promise<Buffer> {
  if (content !== undefined) return Buffer.isBuffer(content) ? content : Buffer.from(typeof content === 'string' ? content : JSON.stringify(content))
  // a tracked workflow that lives in the browser is resolved from its last commit
  const bytes = (await currentContent(env, name, await readBrowserWorkflows(env)))?.bytes
  if (!bytes) {
    throw new ComfydockError('WORKFLOW_NOT_FOUND', `no workflow "${name}" in ${env.userWorkflows}`, { hint: 'Run `comfydock workflow list` to see the workflows.' })
  }
  return bytes
}

export async function resolveWorkflow (ws: Workspace, env: EnvPaths, nameArg: string, opts: ResolveWorkflowOptions = {}): Promise<ResolveWorkflowResult> {
  const name = assertWorkflowName(nameArg)
  const bytes = await loadBytes(env, name, opts.content)
  const analyze = () => analyzeWorkflow(bytes, { file: `${name}.json`, objectInfo: opts.objectInfo, modelLists: opts.modelLists })
  const previous = await previousEntry(env, name)
  let r = await resolveAnalysis(ws, env, name, analyze(), opts, previous)
  const out: ResolveWorkflowResult = { ...r, tracked: previous !== undefined, installed: { packs: [], models: [] }, failed: [] }

  if (opts.install && !opts.dryRun) {
    const packs = [...new Set(r.nodes.filter(n => n.status === 'resolved' && !n.installed && n.pack).map(n => n.pack!))]
    if (packs.length) {
      const batch = await addNodes(ws, env, packs, { onProgress: opts.onProgress, signal: opts.signal })
      for (const item of batch.results) {
        if (item.ok) out.installed.packs.push(item.id ?? item.spec)
        else out.failed.push({ kind: 'pack', subject: item.spec, message: item.error?.message ?? 'install failed' })
      }
    }
    for (const m of r.models.filter(m => m.status === 'unresolved' && m.download)) {
      try {
        const d = await downloadModel(ws, { url: m.download!.url, relPath: m.download!.relative_path }, { onProgress: opts.onProgress, signal: opts.signal })
        out.installed.models.push(d.relPath)
      } catch (err) {
        if (err instanceof ComfydockError && err.code === 'CANCELLED') throw err
        out.failed.push({ kind: 'model', subject: m.download!.relative_path, message: (err as Error).message })
      }
    }
    if (out.installed.packs.length || out.installed.models.length) {
      // Re-resolve: fresh packs and files are now local; keep the choices already made.
      const chosen = new Map(r.models.filter(m => m.match === 'chosen').map(m => [m.path, m]))
      r = await resolveAnalysis(ws, env, name, analyze(), { ...opts, chooseModel: async (m, c) => c.find(x => x.hash === chosen.get(m.path)?.hash) }, previous)
      Object.assign(out, { nodes: r.nodes, models: r.models, issues: r.issues, notes: [...out.notes, ...r.notes] })
    }
  }

  if (out.tracked && !opts.dryRun) {
    await withManifestTransaction(env.pyproject, async (doc) => {
      const table = doc.tool.comfydock.workflows ??= {}
      table[name] = workflowEntry(name, r, table[name])
      const index = ModelIndex.open(ws)
      try {
        doc.tool.comfydock.models = mergeGlobalModels(index, doc.tool.comfydock.models ?? {}, [r])
      } finally {
        index.close()
      }
      if (Object.keys(doc.tool.comfydock.models).length === 0) delete doc.tool.comfydock.models
      await writeManifest(env.pyproject, doc)
    })
  }
  return out
}
