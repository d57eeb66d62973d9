/**
 * @module The open workflow tabs under our workflow names, and writing them back: reading the
 * freshest graph of each tab (unsaved edits included), putting a restored version into its tab, and
 * saving to ComfyUI's disk so browser, disk and commit agree. ComfyUI itself is reached through the
 * host seam only.
 */
import {
  captureTab, markTabSaved, nameOfPath, openTabs as hostTabs, readWorkflowFile, replaceTabGraph, saveTab, writeWorkflowFile,
  type GraphJson, type HostTab,
} from './host'

export { nameOfPath }

export interface OpenTab {
  /** Our workflow name: the path without `workflows/` and `.json`. */
  name: string
  path: string
  active: boolean
  modified: boolean
  persisted: boolean
  host: HostTab
}

export function openTabs (): OpenTab[] {
  return hostTabs().map(host => ({
    name: nameOfPath(host.path),
    path: host.path,
    active: host.active,
    modified: host.modified,
    persisted: host.persisted,
    host,
  }))
}

/** The tab's current graph, including edits not saved to disk. */
export function tabGraph (tab: OpenTab): Promise<GraphJson> {
  return captureTab(tab.host)
}

/**
 * Saves a tab's graph to ComfyUI's disk: through the frontend's own save when it takes it, else
 * through the userdata API, after which the tab is marked as matching its file.
 */
export async function saveToDisk (name: string, json: GraphJson, tab?: OpenTab | null): Promise<void> {
  if (tab && await saveTab(tab.host, json)) return
  await writeWorkflowFile(name, json)
  if (tab) markTabSaved(tab.host, json)
}

/**
 * Puts a restored version (already written to ComfyUI's disk by the sidecar) into the tab of that
 * name, if one is open. No other tab is touched.
 */
export async function loadIntoTab (name: string, json: GraphJson): Promise<boolean> {
  const tab = openTabs().find(t => t.name === name)
  if (!tab) return false
  await replaceTabGraph(tab.host, json)
  return true
}

/**
 * After the sidecar rewrote a workflow file (pull): its open tab, if any, is reloaded from the file,
 * unless the tab has unsaved edits, which are never discarded ('unsaved': the caller says so).
 */
export async function reloadFromDisk (name: string): Promise<'reloaded' | 'unsaved' | 'not-open'> {
  const tab = openTabs().find(t => t.name === name)
  if (!tab) return 'not-open'
  if (tab.modified) return 'unsaved'
  const json = await readWorkflowFile(name)
  // read again after the await: an edit made meanwhile is kept
  const now = openTabs().find(t => t.name === name)
  if (!now) return 'not-open'
  if (now.modified) return 'unsaved'
  await replaceTabGraph(now.host, json)
  return 'reloaded'
}
