/**
 * @module The one place that touches ComfyUI's public modules. Everything else goes through the
 * structural types below, so a missing or renamed member is a feature-detection case, not a crash.
 */
// @ts-expect-error resolved by the browser next to /extensions/<pack>/comfydock.js
import { app as comfyApp } from '../../scripts/app.js'
// @ts-expect-error resolved by the browser next to /extensions/<pack>/comfydock.js
import { api as comfyApi } from '../../scripts/api.js'

export type GraphJson = Record<string, unknown>

export interface ChangeTrackerLike {
  activeState?: GraphJson | null
  initialState?: GraphJson | null
  /** Newer frontends call it captureCanvasState; checkState stays as a deprecated alias. */
  checkState?: () => void
  captureCanvasState?: () => void
  reset?: (state?: GraphJson) => void
}

export interface ComfyWorkflowLike {
  path: string
  key?: string
  filename?: string
  isModified?: boolean
  isPersisted?: boolean
  isTemporary?: boolean
  isLoaded?: boolean
  changeTracker?: ChangeTrackerLike | null
  activeState?: GraphJson | null
  load?: () => Promise<unknown>
  /** Writes activeState through the userdata API and marks the tab saved (the frontend's own save). */
  save?: () => Promise<unknown>
}

export interface WorkflowStoreLike {
  activeWorkflow?: ComfyWorkflowLike | null
  openWorkflows?: ComfyWorkflowLike[]
  getWorkflowByPath?: (path: string) => ComfyWorkflowLike | null
  syncWorkflows?: (dir?: string) => Promise<void>
  $onAction?: (fn: (ctx: { name: string, after: (cb: () => void) => void }) => void) => void
}

export interface SidebarTab {
  id: string
  title: string
  icon: string
  tooltip?: string
  iconBadge?: string | null | (() => string | null)
  type: 'custom'
  render: (el: HTMLElement) => void
  destroy?: () => void
}

export interface ToastOptions {
  severity: 'success' | 'info' | 'warn' | 'error'
  summary: string
  detail?: string
  life?: number
}

export interface ExtensionManagerLike {
  registerSidebarTab?: (tab: SidebarTab) => void
  sidebarTab?: { registerSidebarTab?: (tab: SidebarTab) => void, sidebarTabs?: SidebarTab[] }
  getSidebarTabs?: () => SidebarTab[]
  toast?: { add: (t: ToastOptions) => void }
  setting?: { get: <T>(id: string) => T | undefined, set: <T>(id: string, value: T) => void }
  command?: { execute: (id: string) => void, commands?: Array<{ id: string }> }
  workflow?: WorkflowStoreLike
  /** From frontend 1.6.13. */
  dialog?: { confirm?: (opts: { title: string, message: string }) => Promise<boolean | null> }
}

export interface ComfyAppLike {
  registerExtension: (ext: Record<string, unknown>) => void
  extensionManager?: ExtensionManagerLike
  graph?: { serialize: () => GraphJson }
  loadGraphData: (json: GraphJson, clean?: boolean, restoreView?: boolean, workflow?: ComfyWorkflowLike | string | null) => Promise<void>
}

export interface ComfyApiLike {
  fetchApi: (route: string, init?: RequestInit) => Promise<Response>
  addEventListener: (name: string, fn: (e: Event) => void) => void
}

export const app = comfyApp as ComfyAppLike
export const api = comfyApi as ComfyApiLike

/** `window.__COMFYUI_FRONTEND_VERSION__` (from 1.1.8), or null on older/unknown frontends. */
export function frontendVersion (): string | null {
  const v = (globalThis as { __COMFYUI_FRONTEND_VERSION__?: unknown }).__COMFYUI_FRONTEND_VERSION__
  return typeof v === 'string' ? v : null
}

/** The frontend's own dialog where it has one (1.6.13+), else the browser's. */
export async function confirmDialog (title: string, message: string): Promise<boolean> {
  const dialog = app.extensionManager?.dialog
  if (typeof dialog?.confirm === 'function') return Boolean(await dialog.confirm({ title, message }))
  return window.confirm(`${title}\n\n${message}`)
}
