/**
 * @module prepareWorkflowCommit: snapshot every tracked workflow into `.cec/workflows/` and write its
 * analysis into pyproject (`[tool.comfydock.workflows.<name>]`: packs, models with criticality; the global
 * models table) in ONE atomic manifest write. Unresolved issues block with the list and the fixing commands
 * unless allowIssues. Contents may be handed in (the browser's tabs); otherwise the ComfyUI user folder is read.
 * One model index and one node resolver serve the whole commit (or the caller's are used).
 */
import { mkdir, rm } from 'node:fs/promises'
import { ComfydockError } from '../errors'
import { writeFileAtomic } from '../fs'
import { readManifest, validateManifest, writeManifest, type WorkflowEntry } from '../manifest'
import { ModelIndex } from '../models'
import { createNodeResolver, recordObjectInfoClasses } from '../nodes'
import { withTask } from '../progress'
import type { EnvPaths, Workspace } from '../workspace'
import { analyzeWorkflow } from './analyze'
import { resolveAnalysis, type ResolveOptions, type WorkflowIssue, type WorkflowResolution } from './resolve'
import { mergeGlobalModels, pruneUnusedModels, workflowEntry } from './manifest-entry'
import { currentOf, readBrowserWorkflows, writeBrowserWorkflows } from './live-copy'
import { assertWorkflowName, readCopies, snapshotFile } from './store'
import { sameWorkflow, type SyncState } from './tracking'

export interface PrepareCommitOptions extends Omit<ResolveOptions, 'chooseModel' | 'choosePack'> {
  /** Workflow contents by name (parsed JSON or its text); names not given are read from the ComfyUI user folder. */
  contents?: Record<string, unknown>
  /** Write even when workflows have unresolved issues. */
  allowIssues?: boolean
  /**
   * Tracked workflows neither handed in nor in the user folder keep their committed snapshot instead of
   * being removed: a browser commit may come from a ComfyUI whose user folder is not the environment's.
   */
  keepMissing?: boolean
}

export interface PreparedCommit {
  workflows: Array<{ name: string, state: SyncState, issues: WorkflowIssue[] }>
  /** Tracked workflows whose file is gone: removed from pyproject and .cec/workflows. */
  removed: string[]
  /** Tracked workflows whose file is gone, kept as last committed (keepMissing). */
  kept: string[]
  issues: Array<WorkflowIssue & { workflow: string }>
  /** Choices made without asking (e.g. the installed pack taken for a node type several packs provide). */
  notes: string[]
}

function toBytes (v: unknown): Buffer {
  if (Buffer.isBuffer(v)) return v
  if (typeof v === 'string') return Buffer.from(v, 'utf8')
  return Buffer.from(JSON.stringify(v, null, 2) + '\n', 'utf8')
}

/** Contents keyed by workflow name (a `.json` suffix dropped); a name that is a path is refused. */
function contentsByName (contents: Record<string, unknown> = {}): Map<string, Buffer> {
  return new Map(Object.entries(contents).map(([name, v]) => [assertWorkflowName(name), toBytes(v)]))
}

export async function prepareWorkflowCommit (ws: Workspace, env: EnvPaths, opts: PrepareCommitOptions = {}): Promise<PreparedCommit> {
  const given = contentsByName(opts.contents)
  const doc = await readManifest(env.pyproject)
  const table = doc.tool.comfydock.workflows ?? {}
  const names = Object.keys(table).sort()
  const result: PreparedCommit = { workflows: [], removed: [], kept: [], issues: [], notes: [] }
  // Nothing tracked: leave pyproject byte-for-byte alone.
  if (names.length === 0) return result
  const snapshots = new Map<string, Buffer>()
  const resolutions = new Map<string, WorkflowResolution>()
  // Where each workflow lives after this commit: handed in without a copy in the user folder = in the browser.
  const inBrowser = await readBrowserWorkflows(env)
  const nextInBrowser = new Set<string>()
  const unchanged = new Set<string>()
  const index = opts.modelIndex ?? ModelIndex.open(ws)
  // pyproject is only written after the loop, so one resolver's view of it holds for every workflow
  const nodeResolver = opts.nodeResolver ?? createNodeResolver(ws, env, { objectInfo: opts.objectInfo, network: opts.network, onProgress: opts.onProgress, signal: opts.signal })
  try {
    const copies = await readCopies(env, names)
    await withTask(opts.onProgress, 'Analysing workflows', { total: names.length, unit: 'items' }, async (task) => {
      let done = 0
      for (const name of names) {
        const handed = given.get(name)
        const [live, snap] = copies.get(name)!
        const current = handed ? undefined : currentOf(name, live, snap, inBrowser)
        const bytes = handed ?? current?.bytes
        if (handed ? !live : current?.home === 'browser') nextInBrowser.add(name)
        if (!bytes) {
          // a browser commit keeps it: it lives in some browser tab (committed before this machine knew where)
          if (opts.keepMissing && snap) nextInBrowser.add(name)
          ;(opts.keepMissing ? result.kept : result.removed).push(name)
          task.advance(++done)
          continue
        }
        if (current?.home === 'browser') {
          // its content is its last commit: nothing new to analyse, its entry stands as committed
          unchanged.add(name)
          result.workflows.push({ name, state: 'synced', issues: [] })
          task.advance(++done)
          continue
        }
        const analysis = analyzeWorkflow(bytes, { file: `${name}.json`, objectInfo: opts.objectInfo, modelLists: opts.modelLists })
        const r = await resolveAnalysis(ws, env, name, analysis, { ...opts, yes: true, modelIndex: index, nodeResolver }, table[name])
        const state: SyncState = !snap ? 'new' : sameWorkflow(bytes, snap) ? 'synced' : 'modified'
        result.workflows.push({ name, state, issues: r.issues })
        result.issues.push(...r.issues.map(i => ({ ...i, workflow: name })))
        result.notes.push(...r.notes.map(n => `${name}: ${n}`))
        // byte-identical snapshots are not rewritten
        if (!snap?.equals(bytes)) snapshots.set(name, bytes)
        resolutions.set(name, r)
        task.advance(++done)
      }
    })

    if (result.issues.length && !opts.allowIssues) {
      const lines = result.issues.map(i => `  ${i.workflow}: ${i.message} → ${i.fix}`)
      throw new ComfydockError('WORKFLOW_UNRESOLVED', `workflows have unresolved issues:\n${lines.join('\n')}`, {
        hint: 'Fix them with the commands listed, or commit anyway with --allow-issues.',
      })
    }

    const models = mergeGlobalModels(index, doc.tool.comfydock.models ?? {}, resolutions.values())
    const workflows: Record<string, WorkflowEntry> = {}
    for (const name of names) {
      const r = resolutions.get(name)
      if (r) workflows[name] = workflowEntry(name, r, table[name])
      else if (result.kept.includes(name) || unchanged.has(name)) workflows[name] = table[name]
    }
    doc.tool.comfydock.workflows = workflows
    const kept = pruneUnusedModels(models, workflows)
    if (Object.keys(kept).length) doc.tool.comfydock.models = kept
    else delete doc.tool.comfydock.models
    // what the running ComfyUI says the packs provide is kept for resolving them without it
    if (opts.objectInfo) recordObjectInfoClasses(doc, opts.objectInfo)
    // a manifest that would not be valid stops the commit before anything is written
    validateManifest(doc, env.pyproject)
    await mkdir(env.cecWorkflows, { recursive: true })
    // Snapshots, manifest and browser list side by side: each write waits for its fsync, and one after
    // another they took up to 90 ms of a panel commit on a busy disk. Until git records them they are
    // only the working tree, whatever order they land in.
    await Promise.all([
      ...[...snapshots].map(([name, bytes]) => writeFileAtomic(snapshotFile(env, name), bytes)),
      ...result.removed.map(name => rm(snapshotFile(env, name), { force: true })),
      writeManifest(env.pyproject, doc),
      writeBrowserWorkflows(env, [...nextInBrowser].filter(n => workflows[n])),
    ])
    return result
  } finally {
    if (!opts.modelIndex) index.close()
  }
}
