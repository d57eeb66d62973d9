/**
 * @module The one module that touches ComfyUI. Its types come from the official
 * `@comfyorg/comfyui-frontend-types`; every member a supported frontend (1.3.34 on) may lack is
 * detected per call, and every version difference is decided here. The rest of the extension gets
 * capabilities (open tabs, capture a tab, replace a tab's graph, a sidebar tab with a badge...),
 * never `app` or `api`, so a member that moves in a new frontend is a change to this file only.
 */
import type {
  ComfyApi, ComfyApp, ComfyExtension, ExtensionManager, ToastMessageOptions,
} from '@comfyorg/comfyui-frontend-types'
// @ts-expect-error resolved by the browser next to /extensions/<pack>/comfydock.js
import { app as comfyApp } from '../../scripts/app.js'
// @ts-expect-error resolved by the browser next to /extensions/<pack>/comfydock.js
import { api as comfyApi } from '../../scripts/api.js'

import { compareVersions, fileMenuOf } from './versions'

export { compareVersions }
export type GraphJson = Record<string, unknown>

type WorkflowStore = ExtensionManager['workflow']
type ComfyWorkflow = NonNullable<WorkflowStore['activeWorkflow']>
type ChangeTracker = NonNullable<ComfyWorkflow['changeTracker']>

/** Older frontends lack members the types promise: everything is optional until checked. */
type Loose<T> = { [K in keyof T]?: T[K] }
const app = comfyApp as Loose<ComfyApp> & Pick<ComfyApp, 'registerExtension'>
const api = comfyApi as Loose<ComfyApi> & Pick<ComfyApi, 'addEventListener'>

function manager (): Loose<ExtensionManager> & { sidebarTab?: { registerSidebarTab?: (tab: unknown) => void } } | undefined {
  return app.extensionManager as never
}

function store (): Loose<WorkflowStore> | undefined {
  return manager()?.workflow as Loose<WorkflowStore> | undefined
}

// ---------------------------------------------------------------------------------------------
// Version, support, errors

/** `window.__COMFYUI_FRONTEND_VERSION__` (from 1.1.8), or null on older/unknown frontends. */
export function frontendVersion (): string | null {
  const v = (globalThis as { __COMFYUI_FRONTEND_VERSION__?: unknown }).__COMFYUI_FRONTEND_VERSION__
  return typeof v === 'string' ? v : null
}

/** What every error report from the extension names, so a bug report says which frontend it came from. */
export function reportContext (): string {
  return `ComfyUI frontend ${frontendVersion() ?? 'unknown'}`
}

/** A ComfyUI call that failed: the message names the frontend version, for bug reports. */
export class HostError extends Error {
  readonly frontend: string | null
  constructor (message: string, options?: { cause?: unknown }) {
    const frontend = frontendVersion()
    super(`${message} (ComfyUI frontend ${frontend ?? 'unknown'})`, options)
    this.frontend = frontend
  }
}

export const MIN_FRONTEND = '1.3.34'

export interface Support {
  version: string | null
  ok: boolean
  /** Human-readable list of what is missing. */
  missing: string[]
}

export function detectSupport (): Support {
  const version = frontendVersion()
  const em = manager()
  const missing: string[] = []
  if (!em) missing.push('app.extensionManager')
  if (em && !em.sidebarTab?.registerSidebarTab && !em.registerSidebarTab) missing.push('sidebar tabs')
  if (em && !em.workflow) missing.push('workflow store (extensionManager.workflow)')
  if (em && !em.toast) missing.push('toasts')
  if (version && compareVersions(version, MIN_FRONTEND) < 0) missing.unshift(`frontend ${version} (needs ${MIN_FRONTEND} or newer)`)
  return { version, ok: missing.length === 0, missing }
}

// ---------------------------------------------------------------------------------------------
// Registration: commands, menu, keybindings, settings, sidebar

export interface CommandSpec {
  id: string
  label: string
  icon?: string
  run: () => void | Promise<void>
  /** Shown in the core file menu ("Workflow" before frontend 1.26.3, "File" from then on). */
  inFileMenu?: boolean
  keybinding?: { key: string, ctrl?: boolean, alt?: boolean, shift?: boolean }
}

export interface SettingSpec {
  id: string
  name: string
  defaultValue: string
  category: string[]
  onChange?: () => void
}

export interface ExtensionSpec {
  name: string
  commands: CommandSpec[]
  settings: SettingSpec[]
  /** Once the frontend is ready (sidebar, stores, graph). */
  setup: () => void | Promise<void>
}

/** The core menu that holds Open/Save/Export ("Workflow" or "File", by frontend version). */
export function fileMenuName (): 'File' | 'Workflow' {
  return fileMenuOf(frontendVersion())
}

export function registerExtension (spec: ExtensionSpec): void {
  const menu = spec.commands.filter(c => c.inFileMenu).map(c => c.id)
  const ext: ComfyExtension = {
    name: spec.name,
    commands: spec.commands.map(c => ({ id: c.id, label: c.label, icon: c.icon, function: () => c.run() })),
    menuCommands: menu.length ? [{ path: [fileMenuName()], commands: menu }] : [],
    keybindings: spec.commands.filter(c => c.keybinding).map(c => ({ combo: c.keybinding!, commandId: c.id })),
    settings: spec.settings.map(s => ({ id: s.id, name: s.name, type: 'text', defaultValue: s.defaultValue, category: s.category, onChange: s.onChange })) as ComfyExtension['settings'],
    setup: async () => { await spec.setup() },
  }
  app.registerExtension(ext)
}

export interface SidebarSpec {
  id: string
  title: string
  icon: string
  tooltip?: string
  render: (el: HTMLElement) => void
  destroy?: () => void
}

export interface SidebarHandle {
  /** Sets the number (or text) on the sidebar button; null hides it. */
  setBadge (value: string | null): void
}

export function addSidebarTab (spec: SidebarSpec, badge: () => string | null): SidebarHandle | null {
  const em = manager()
  const register = em?.sidebarTab?.registerSidebarTab?.bind(em.sidebarTab) ?? em?.registerSidebarTab?.bind(em)
  if (!register) return null
  register({ ...spec, type: 'custom', iconBadge: badge })
  // The frontend keeps registered tabs in a reactive store and calls a badge function only when it
  // re-renders; writing the value through the store's copy makes the badge follow our state.
  const stored = (): { iconBadge?: unknown } | undefined => (em?.getSidebarTabs?.() ?? []).find(t => t.id === spec.id)
  return {
    setBadge (value) {
      const live = stored()
      if (live && live.iconBadge !== value) live.iconBadge = value
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Events, toasts, dialogs, settings, HTTP

export function onGraphChanged (fn: () => void): void {
  api.addEventListener('graphChanged', fn)
}

/**
 * Calls `fn` when the set of open tabs or the active tab may have changed. There is no public event;
 * the workflow store is Pinia in every supported frontend, so its action and state hooks serve.
 */
const TAB_ACTIONS = /^(openWorkflow|openWorkflowsInBackground|closeWorkflow|createTemporary|createNewTemporary|saveWorkflow|saveAs|renameWorkflow|deleteWorkflow|attachWorkflow|loadWorkflows)$/

export function onTabsChanged (fn: () => void): void {
  const s = store()
  if (typeof s?.$onAction === 'function') {
    // only actions about tabs: newer stores also run lookup actions many times per frame
    s.$onAction(({ name, after }) => { if (TAB_ACTIONS.test(name)) after(() => fn()) })
  }
  // the active workflow is also set without an action on newer frontends (restored session at load);
  // any state change fires this, so only a different set of tabs or active tab is passed on
  if (typeof s?.$subscribe === 'function') {
    let seen = tabsSignature()
    s.$subscribe(() => {
      const now = tabsSignature()
      if (now !== seen) { seen = now; fn() }
    })
  }
}

function tabsSignature (): string {
  return openTabs().map(t => `${t.active ? '*' : ''}${t.path}${t.modified ? '~' : ''}`).join('\n')
}

export type Severity = 'success' | 'info' | 'warn' | 'error'

export function toast (severity: Severity, summary: string, detail?: string): void {
  const message: ToastMessageOptions = { severity, summary, detail, life: severity === 'error' ? 8000 : 4000 }
  manager()?.toast?.add(message)
}

/** The frontend's own dialog where it has one (1.6.13+), else the browser's. */
export async function confirmDialog (title: string, message: string): Promise<boolean> {
  const dialog = manager()?.dialog as { confirm?: (o: { title: string, message: string }) => Promise<boolean | null> } | undefined
  if (typeof dialog?.confirm === 'function') return Boolean(await dialog.confirm({ title, message }))
  return window.confirm(`${title}\n\n${message}`)
}

export function getSetting (id: string): string {
  const v = manager()?.setting?.get<unknown>(id)
  return typeof v === 'string' ? v.trim() : ''
}

/** ComfyUI's own URL for an API route, as this page reaches it (ComfyUI may be served under a sub-path). */
export function comfyApiUrl (route: string): URL {
  const path = typeof api.apiURL === 'function' ? api.apiURL(route) : `/api${route}`
  return new URL(path, location.href)
}

/** A request to ComfyUI's own server (`/api` prefix and the multi-user header added by the frontend). */
export function comfyFetch (route: string, init?: RequestInit): Promise<Response> {
  if (typeof api.fetchApi !== 'function') return Promise.reject(new HostError('this frontend has no api.fetchApi'))
  return api.fetchApi(route, init)
}

// ---------------------------------------------------------------------------------------------
// Workflow tabs

const PREFIX = 'workflows/'

/** One open workflow tab. `handle` is the frontend's own object: only this module reads it. */
export interface HostTab {
  /** ComfyUI's path, `workflows/<name>.json`. */
  path: string
  active: boolean
  /** Edits not saved to ComfyUI's disk. */
  modified: boolean
  /** A file on ComfyUI's disk (not a new, temporary tab). */
  persisted: boolean
  readonly handle: unknown
}

function samePath (a: { path?: string } | null | undefined, b: { path?: string } | null | undefined): boolean {
  return Boolean(a && b && typeof a.path === 'string' && a.path === b.path)
}

function activeWorkflow (): ComfyWorkflow | null {
  return (store()?.activeWorkflow as ComfyWorkflow | null | undefined) ?? null
}

export function openTabs (): HostTab[] {
  const s = store()
  const active = activeWorkflow()
  // the store can hold a half-opened entry for a moment while the frontend switches tabs;
  // the active one is compared by path: newer frontends hand out different proxies of one workflow
  return ((s?.openWorkflows ?? []) as Array<ComfyWorkflow | undefined>)
    .filter((w): w is ComfyWorkflow => typeof w?.path === 'string')
    .map(w => ({
      path: w.path,
      active: samePath(w, active),
      modified: Boolean(w.isModified),
      persisted: w.isPersisted !== false && !w.isTemporary,
      handle: w,
    }))
}

// A graph load (tab switch, open, restore) is in flight: the canvas may already hold the next tab's
// graph while the store still names the previous tab active. Counted by wrapping app.loadGraphData.
let loadsInFlight = 0
let loadsSettled: Promise<void> = Promise.resolve()
let wrapped = false

function watchGraphLoads (): void {
  if (wrapped || typeof app.loadGraphData !== 'function') return
  wrapped = true
  const original = app.loadGraphData.bind(app)
  let release: () => void = () => {}
  app.loadGraphData = (async (...args: Parameters<ComfyApp['loadGraphData']>) => {
    if (loadsInFlight++ === 0) loadsSettled = new Promise(resolve => { release = resolve })
    try {
      return await original(...args)
    } finally {
      if (--loadsInFlight === 0) release()
    }
  }) as ComfyApp['loadGraphData']
}

/** Waits (a bounded time: a load may wait on a dialog) until no graph load is under way. */
async function graphLoadsSettled (): Promise<void> {
  if (loadsInFlight > 0) await withTimeout(loadsSettled, 5000, 'a graph load').catch(() => {})
}

function trackerLoading (t: ChangeTracker | null | undefined): boolean {
  // 1.43+ sets this static guard for the window in which canvas and active workflow disagree
  return Boolean((t?.constructor as { isLoadingGraph?: boolean } | undefined)?.isLoadingGraph)
}

/** Makes the active tab's change tracker record edits not yet seen (renamed in newer frontends). */
function captureActive (w: ComfyWorkflow): void {
  const t = w.changeTracker as Loose<ChangeTracker> | null
  if (!t) return
  if (typeof t.captureCanvasState === 'function') t.captureCanvasState()
  else if (typeof t.checkState === 'function') t.checkState()
}

function stateOf (w: ComfyWorkflow): GraphJson | null {
  const own = (w as Loose<ComfyWorkflow>).activeState ?? w.changeTracker?.activeState ?? null
  return own as GraphJson | null
}

function workflowOf (tab: HostTab): ComfyWorkflow {
  return tab.handle as ComfyWorkflow
}

/**
 * The tab's current graph, unsaved edits included. The canvas is read only when this tab is the
 * active one at the moment of reading and no graph load is under way; otherwise the tab's own last
 * captured state is returned. A tab snapshot taken earlier may be stale (the user switched tabs).
 */
export async function captureTab (tab: HostTab): Promise<GraphJson> {
  watchGraphLoads()
  const w = workflowOf(tab)
  await graphLoadsSettled()
  if (samePath(activeWorkflow(), w) && loadsInFlight === 0 && !trackerLoading(w.changeTracker) && app.graph) {
    // same tick as the check: no switch can come between
    captureActive(w)
    return JSON.parse(JSON.stringify(app.graph.serialize())) as GraphJson
  }
  if (!w.changeTracker) {
    // an open tab the frontend has not loaded yet (a restored session, or one being opened right
    // now): only a saved one can be read, from its file, and never by waiting on the frontend forever
    if (w.isTemporary || w.isPersisted === false || typeof w.load !== 'function') throw new HostError(`tab "${tab.path}" is not loaded yet`)
    await withTimeout(w.load(), 10_000, `loading tab "${tab.path}"`)
  }
  const state = stateOf(w)
  if (!state) throw new HostError(`cannot read the graph of tab "${tab.path}"`)
  return JSON.parse(JSON.stringify(state)) as GraphJson
}

function withTimeout<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  return Promise.race([
    p,
    new Promise<T>((_resolve, reject) => { timer = setTimeout(() => reject(new HostError(`${what} took over ${ms / 1000} s`)), ms) }),
  ]).finally(() => clearTimeout(timer))
}

type Saveable = Loose<ComfyWorkflow> & { content?: string | null, originalContent?: string | null, _isModified?: boolean }

/** Marks the tab as matching its file on disk, whose text is `json`. */
function markSaved (w: ComfyWorkflow, json: GraphJson): void {
  const f = w as Saveable
  const text = JSON.stringify(json)
  if ('originalContent' in f) f.originalContent = text
  if ('content' in f) f.content = text
  const t = w.changeTracker as Loose<ChangeTracker> | null
  if (t && typeof t.reset === 'function') t.reset(t.activeState ?? undefined)
  // 1.4x keeps the flag apart from the tracker; older frontends derive it
  try { f.isModified = false } catch { /* getter only */ }
  if (typeof (t as { updateModified?: () => void } | null)?.updateModified === 'function') (t as { updateModified: () => void }).updateModified()
}

/**
 * Saves the tab to ComfyUI's disk as the frontend itself would (it then knows the tab is saved,
 * and a temporary tab becomes a file). Returns false when the frontend's save is not available or
 * refused (e.g. a temporary tab whose file already exists); the caller then writes the file itself.
 */
export async function saveTab (tab: HostTab, json: GraphJson): Promise<boolean> {
  const w = workflowOf(tab)
  const s = store()
  // a never-saved tab whose name another window has meanwhile saved: the frontend's save would be
  // refused (409), which newer frontends report as an error of ours in the console
  if (w.isTemporary === true && await workflowFileExists(w.path)) return false
  const t = w.changeTracker as Loose<ChangeTracker> | null
  // what the save writes is the tracker's state: make it the graph the caller committed
  if (t && 'activeState' in t) t.activeState = structuredClone(json) as never
  try {
    if (typeof s?.saveWorkflow === 'function') await s.saveWorkflow(w)
    else if (typeof w.save === 'function') await w.save()
    else return false
  } catch {
    return false
  }
  markSaved(w, json)
  return !w.isModified
}

/** After the caller wrote the tab's file itself: the tab now matches it. */
export function markTabSaved (tab: HostTab, json: GraphJson): void {
  markSaved(workflowOf(tab), json)
}

/**
 * Replaces one tab's graph with `json`, which is already its file on disk (restore): the tab ends
 * clean. Works on that tab's own workflow object only: the store is never reloaded and no other
 * tab is switched to, read or written. The active tab is reloaded on the canvas (and is resolved once
 * the canvas has drawn it); another tab gets the new state in its tracker and shows it when the user
 * switches to it.
 */
export async function replaceTabGraph (tab: HostTab, json: GraphJson): Promise<void> {
  watchGraphLoads()
  const w = workflowOf(tab)
  await graphLoadsSettled()
  if (samePath(activeWorkflow(), w)) {
    if (typeof app.loadGraphData !== 'function') throw new HostError('this frontend has no app.loadGraphData')
    // the workflow object (not a name) keeps the graph in this tab instead of opening a new one
    await app.loadGraphData(structuredClone(json) as never, true, true, w as never)
    markSaved(w, json)
    await settleDrawn(w, json)
    return
  }
  if (w.changeTracker) {
    // not on screen: its tracker gets the new state (reloading it from its file is no good: newer
    // frontends would take their own draft of the tab over the file)
    const t = w.changeTracker as Loose<ChangeTracker>
    if (typeof t.reset !== 'function') throw new HostError('this frontend\'s change tracker has no reset()')
    // as the canvas will serialize it when the user switches to the tab: otherwise newer frontends
    // see their own normalization (filled-in inputs, sizes) as an edit and mark the tab unsaved
    t.reset(normalizedOffscreen(json) as never)
    settleWhenShown(w.path, json)
  }
  markSaved(w, json)
}

// A restored graph on screen: the canvas sizes nodes as it first draws them (Vue nodes, 1.27 to 1.44,
// to their content), which the frontend takes for an edit of a version saved with other sizes (one
// committed from the CLI). Once the canvas has drawn the restored nodes, what it holds is the saved
// state. Restored tabs not on screen settle so when the user first switches to them.
const restoredOffscreen = new Map<string, GraphJson>()
let watchingActivation = false

function nodeKey (g: unknown): string {
  return ((g as { nodes?: Array<{ id?: unknown, type?: unknown }> } | null)?.nodes ?? []).map(n => `${String(n.id)}:${String(n.type)}`).sort().join(',')
}

function settleWhenShown (path: string, json: GraphJson): void {
  restoredOffscreen.set(path, json)
  const s = store()
  if (watchingActivation || typeof s?.$subscribe !== 'function') return
  watchingActivation = true
  s.$subscribe(() => {
    const w = activeWorkflow()
    const json = w ? restoredOffscreen.get(w.path) : undefined
    if (!w || !json) return
    restoredOffscreen.delete(w.path)
    void settleDrawn(w, json)
  })
}

/** Once the canvas has drawn `w`'s graph: if it holds exactly the restored nodes, that is the saved state. */
async function settleDrawn (w: ComfyWorkflow, json: GraphJson): Promise<void> {
  await graphLoadsSettled()
  await drawn()
  if (!samePath(activeWorkflow(), w) || !app.graph) return
  const shown = app.graph.serialize()
  if (nodeKey(shown) !== nodeKey(json)) return
  captureActive(w)
  markSaved(w, JSON.parse(JSON.stringify(shown)) as GraphJson)
}

/**
 * Resolves once the canvas has drawn what it holds and stopped changing it: the same graph three frames
 * in a row (Vue nodes size themselves over the first two), at most 30 frames. Hidden pages draw no
 * frames; a frame is then 100 ms.
 */
async function drawn (): Promise<void> {
  let last = ''
  let same = 0
  for (let i = 0; i < 30 && same < 2; i++) {
    await new Promise<void>(resolve => {
      const timer = setTimeout(resolve, 100)
      requestAnimationFrame(() => { clearTimeout(timer); resolve() })
    })
    const now = JSON.stringify(app.graph?.serialize() ?? null)
    same = now === last ? same + 1 : 0
    last = now
  }
}

/** `json` configured into a graph that is not on screen (the frontend's own LGraph class) and serialized again. */
function normalizedOffscreen (json: GraphJson): GraphJson {
  const Graph = (app.graph as { constructor?: new () => { configure: (j: unknown) => unknown, serialize: () => unknown } } | undefined)?.constructor
  if (typeof Graph !== 'function') return structuredClone(json)
  try {
    const g = new Graph()
    g.configure(structuredClone(json))
    return JSON.parse(JSON.stringify(g.serialize())) as GraphJson
  } catch {
    return structuredClone(json)
  }
}

export function tabPathOf (name: string): string {
  return `${PREFIX}${name}.json`
}

/** Our workflow name: the path without `workflows/` and `.json`. */
export function nameOfPath (path: string): string {
  const rest = path.startsWith(PREFIX) ? path.slice(PREFIX.length) : path
  return rest.endsWith('.json') ? rest.slice(0, -5) : rest
}

/** Writes a workflow file through ComfyUI's userdata API (the `/` in the file name must be encoded). */
export async function writeWorkflowFile (name: string, json: GraphJson): Promise<void> {
  const file = encodeURIComponent(tabPathOf(name))
  const res = await comfyFetch(`/userdata/${file}?overwrite=true`, { method: 'POST', body: JSON.stringify(json) })
  if (!res.ok) throw new HostError(`ComfyUI refused to save ${tabPathOf(name)} (HTTP ${res.status})`)
}

/** Whether ComfyUI's disk holds a file at this tab path (`workflows/x.json`), from its listing of workflows/. */
async function workflowFileExists (path: string): Promise<boolean> {
  const res = await comfyFetch('/userdata?dir=workflows&recurse=true')
  // 404: no workflows folder yet, so no file either
  if (!res.ok) return false
  const files = await res.json() as unknown
  return Array.isArray(files) && files.includes(path.slice('workflows/'.length))
}

/** Reads a workflow file through ComfyUI's userdata API (what ComfyUI has saved on disk now). */
export async function readWorkflowFile (name: string): Promise<GraphJson> {
  const res = await comfyFetch(`/userdata/${encodeURIComponent(tabPathOf(name))}`)
  if (!res.ok) throw new HostError(`ComfyUI could not read ${tabPathOf(name)} (HTTP ${res.status})`)
  const json = await res.json() as unknown
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new HostError(`${tabPathOf(name)} is not a workflow`)
  return json as GraphJson
}
