/**
 * @module What this frontend can do. The floor is 1.3.34 (workflow store, menuCommands, sidebar,
 * toast, settings); below it the extension says so instead of failing in odd places.
 */
import { app, frontendVersion } from './host'

export const MIN_FRONTEND = '1.3.34'

export interface Support {
  version: string | null
  ok: boolean
  /** Human-readable list of what is missing. */
  missing: string[]
}

export function compareVersions (a: string, b: string): number {
  const pa = a.split(/[.-]/).map(n => Number.parseInt(n, 10) || 0)
  const pb = b.split(/[.-]/).map(n => Number.parseInt(n, 10) || 0)
  for (let i = 0; i < 3; i++) {
    if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0)
  }
  return 0
}

export function detectSupport (): Support {
  const version = frontendVersion()
  const em = app.extensionManager
  const missing: string[] = []
  if (!em) missing.push('app.extensionManager')
  if (em && !em.sidebarTab?.registerSidebarTab && !em.registerSidebarTab) missing.push('sidebar tabs')
  if (em && !em.workflow) missing.push('workflow store (extensionManager.workflow)')
  if (em && !em.toast) missing.push('toasts')
  if (version && compareVersions(version, MIN_FRONTEND) < 0) missing.unshift(`frontend ${version} (needs ${MIN_FRONTEND} or newer)`)
  return { version, ok: missing.length === 0, missing }
}
