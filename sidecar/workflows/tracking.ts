/**
 * @module Which workflows an environment tracks (an entry in `[tool.comfydock.workflows]`) and how each live
 * copy compares with its committed snapshot: new, modified, deleted, synced (or untracked).
 */
import { rm } from 'node:fs/promises'
import { ComfydockError } from '../errors'
import { readManifest, withManifestTransaction, writeManifest, type WorkflowEntry } from '../manifest'
import type { EnvPaths, Workspace } from '../workspace'
import { parseLenientJson } from './lenient-json'
import { comparableWorkflow } from './normalize'
import { currentContent, readBrowserWorkflows, writeBrowserWorkflows, type WorkflowHome } from './live-copy'
import { assertWorkflowName, listSnapshotNames, listUserWorkflowNames, readSnapshot, readUserWorkflow, snapshotFile } from './store'

export type SyncState = 'new' | 'modified' | 'deleted' | 'synced' | 'untracked'

export interface WorkflowListEntry {
  name: string
  tracked: boolean
  state: SyncState
  /** Where its current content lives: ComfyUI's user folder, a browser tab (committed from the panel), or nowhere (deleted). */
  location: WorkflowHome | null
}

function comparable (bytes: Buffer): string {
  try { return comparableWorkflow(parseLenientJson(bytes.toString('utf8'))) } catch { return bytes.toString('utf8') }
}

/** Equal after dropping UI-only noise (canvas position, frontend version, rolled seeds). */
export function sameWorkflow (a: Buffer, b: Buffer): boolean {
  return a.equals(b) || comparable(a) === comparable(b)
}

/** A workflow that lives in the browser is as its last commit on this machine: synced. */
export async function syncState (env: EnvPaths, name: string, tracked: boolean, inBrowser?: Set<string>): Promise<SyncState> {
  if (!tracked) return 'untracked'
  const current = await currentContent(env, name, inBrowser ?? await readBrowserWorkflows(env))
  if (!current) return 'deleted'
  if (current.home === 'browser') return 'synced'
  const snap = await readSnapshot(env, name)
  if (!snap) return 'new'
  return sameWorkflow(current.bytes, snap) ? 'synced' : 'modified'
}

export async function trackedNames (env: EnvPaths): Promise<string[]> {
  const doc = await readManifest(env.pyproject)
  return Object.keys(doc.tool.comfydock.workflows ?? {}).sort()
}

export async function listWorkflows (_ws: Workspace | undefined, env: EnvPaths): Promise<WorkflowListEntry[]> {
  const tracked = new Set(await trackedNames(env))
  const user = new Set(await listUserWorkflowNames(env))
  const inBrowser = await readBrowserWorkflows(env)
  const names = new Set([...user, ...await listSnapshotNames(env), ...tracked])
  const out: WorkflowListEntry[] = []
  for (const name of [...names].sort()) {
    const state = await syncState(env, name, tracked.has(name), inBrowser)
    const location: WorkflowHome | null = user.has(name) ? 'user-folder' : tracked.has(name) && state !== 'deleted' ? 'browser' : null
    out.push({ name, tracked: tracked.has(name), state, location })
  }
  return out
}

export const emptyWorkflowEntry = (name: string): WorkflowEntry => ({ path: `workflows/${name}.json`, nodes: [] })

export interface TrackOptions {
  /** Names whose contents are handed in (the browser's tabs): tracked without a saved file in the user folder. */
  given?: Iterable<string>
}

/** Starts tracking; `all` takes every workflow in the ComfyUI user folder. Returns the newly tracked names. */
export async function trackWorkflows (env: EnvPaths, names: string[] | 'all', opts: TrackOptions = {}): Promise<string[]> {
  const live = await listUserWorkflowNames(env)
  const given = new Set([...opts.given ?? []].map(assertWorkflowName))
  const wanted = names === 'all' ? live : names.map(assertWorkflowName)
  for (const n of wanted) {
    if (!live.includes(n) && !given.has(n)) {
      throw new ComfydockError('WORKFLOW_NOT_FOUND', `no workflow "${n}" in ${env.userWorkflows}`, {
        hint: live.length ? `Saved workflows: ${live.join(', ')}. Save it in ComfyUI first, then run \`comfydock workflow track ${n}\`.` : 'Save the workflow in ComfyUI first (Workflow → Save).',
      })
    }
  }
  return withManifestTransaction(env.pyproject, async (doc) => {
    const table = doc.tool.comfydock.workflows ??= {}
    const added = wanted.filter(n => !table[n])
    for (const n of added) table[n] = emptyWorkflowEntry(n)
    if (added.length) await writeManifest(env.pyproject, doc)
    return added
  })
}

/** Stops tracking and removes the snapshot (recorded by the next commit). The live file is never touched. */
export async function untrackWorkflows (env: EnvPaths, names: string[]): Promise<string[]> {
  const wanted = names.map(assertWorkflowName)
  return withManifestTransaction(env.pyproject, async (doc) => {
    const table = doc.tool.comfydock.workflows ?? {}
    const missing = wanted.filter(n => !table[n])
    if (missing.length) {
      throw new ComfydockError('WORKFLOW_NOT_TRACKED', `not tracked: ${missing.join(', ')}`, { hint: 'Run `comfydock workflow list` to see tracked workflows.' })
    }
    for (const n of wanted) delete table[n]
    await writeManifest(env.pyproject, doc)
    for (const n of wanted) await rm(snapshotFile(env, n), { force: true })
    const inBrowser = await readBrowserWorkflows(env)
    await writeBrowserWorkflows(env, [...inBrowser].filter(n => !wanted.includes(n)))
    return wanted
  })
}
