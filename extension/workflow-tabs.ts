/**
 * @module The open workflow tabs as the browser holds them, and writing them back: reading the
 * freshest graph of each tab (unsaved edits included), loading a restored version into its tab,
 * and saving to ComfyUI's disk through the userdata API so browser, disk and commit agree.
 */
import { api, app, type ComfyWorkflowLike, type GraphJson } from './host'

export interface OpenTab {
  /** Our workflow name: the path without `workflows/` and `.json`. */
  name: string
  path: string
  active: boolean
  modified: boolean
  persisted: boolean
  workflow: ComfyWorkflowLike
}

const PREFIX = 'workflows/'

export function nameOfPath (path: string): string {
  const rest = path.startsWith(PREFIX) ? path.slice(PREFIX.length) : path
  return rest.endsWith('.json') ? rest.slice(0, -5) : rest
}

function store () {
  return app.extensionManager?.workflow
}

export function openTabs (): OpenTab[] {
  const s = store()
  const active = s?.activeWorkflow ?? null
  // the store can hold a half-opened entry for a moment while the frontend switches tabs
  return (s?.openWorkflows ?? []).filter((w): w is ComfyWorkflowLike => typeof w?.path === 'string').map(w => ({
    name: nameOfPath(w.path),
    path: w.path,
    active: w === active,
    modified: Boolean(w.isModified),
    persisted: w.isPersisted !== false && !w.isTemporary,
    workflow: w,
  }))
}

/** Makes the change tracker record programmatic edits; the method was renamed in newer frontends. */
function capture (w: ComfyWorkflowLike): void {
  const t = w.changeTracker
  if (!t) return
  if (typeof t.captureCanvasState === 'function') t.captureCanvasState()
  else if (typeof t.checkState === 'function') t.checkState()
}

/** The tab's current graph, including edits not saved to disk. */
export async function tabGraph (tab: OpenTab): Promise<GraphJson> {
  if (tab.active && app.graph) {
    capture(tab.workflow)
    return app.graph.serialize()
  }
  const w = tab.workflow
  if (!w.changeTracker && typeof w.load === 'function') await w.load()
  const state = w.activeState ?? w.changeTracker?.activeState
  if (!state) throw new Error(`cannot read the graph of tab "${tab.name}"`)
  return state
}

/** The frontend's own save of a tab: it then knows the tab is saved (no "unsaved" mark, no longer temporary). */
async function frontendSave (w: ComfyWorkflowLike): Promise<boolean> {
  if (typeof w.save !== 'function') return false
  try {
    await w.save()
    return !w.isModified
  } catch {
    // e.g. a temporary tab whose file already exists: the frontend will not overwrite it
    return false
  }
}

/**
 * Saves a tab's graph to ComfyUI's disk: through the tab's own save when it has one, else
 * POST /api/userdata/workflows%2F<name>.json (the slash must be encoded).
 */
export async function saveToDisk (name: string, json: GraphJson, workflow?: ComfyWorkflowLike | null): Promise<void> {
  if (workflow && await frontendSave(workflow)) return
  const file = encodeURIComponent(`${PREFIX}${name}.json`)
  const res = await api.fetchApi(`/userdata/${file}?overwrite=true`, { method: 'POST', body: JSON.stringify(json) })
  if (!res.ok) throw new Error(`ComfyUI refused to save ${PREFIX}${name}.json (HTTP ${res.status})`)
  const s = store()
  await s?.syncWorkflows?.(PREFIX.slice(0, -1)).catch(() => {})
  // the saved state is the new baseline, so the tab stops showing unsaved edits
  const w = workflow ?? s?.getWorkflowByPath?.(`${PREFIX}${name}.json`)
  if (w?.changeTracker?.reset) w.changeTracker.reset(json)
}

/** Loads a graph into the tab of that name (opening it if needed), then saves it to disk. */
export async function loadIntoTab (name: string, json: GraphJson): Promise<void> {
  const s = store()
  const path = `${PREFIX}${name}.json`
  await s?.syncWorkflows?.(PREFIX.slice(0, -1)).catch(() => {})
  const existing = s?.getWorkflowByPath?.(path) ?? null
  await app.loadGraphData(structuredClone(json), true, true, existing ?? name)
  const loaded = existing ?? s?.activeWorkflow ?? null
  // the tracker notices the new graph on the next UI event; capture now so the save writes it
  if (loaded) capture(loaded)
  await saveToDisk(name, json, loaded)
}
