/** @module `node list`: every tracked pack with its source, pin and state on disk. */
import { readManifest } from '../../manifest'
import type { EnvPaths, Workspace } from '../../workspace'
import { trackedPacks } from '../pack-manifest'
import { getNodeStatus } from './node-status'

export interface ListedNode {
  id: string
  name: string
  source: string
  version: string
  ref?: string
  repository?: string
  state: 'installed' | 'missing' | 'disabled' | 'version-mismatch'
  /** The version found on disk when it differs from the pin. */
  installedVersion?: string
}

export async function listNodes (ws: Workspace, env: EnvPaths): Promise<{ nodes: ListedNode[], untracked: string[] }> {
  const doc = await readManifest(env.pyproject)
  const status = await getNodeStatus(ws, env)
  const nodes = Object.entries(trackedPacks(doc)).map(([id, e]): ListedNode => {
    const mismatch = status.mismatched.find(m => m.id === id)
    const state = status.missing.includes(id) ? 'missing' : status.disabled.includes(id) ? 'disabled' : mismatch ? 'version-mismatch' : 'installed'
    return {
      id, name: e.name, source: e.source, version: e.version, state,
      ...(e.ref ? { ref: e.ref } : {}), ...(e.repository ? { repository: e.repository } : {}),
      ...(mismatch ? { installedVersion: mismatch.actual } : {}),
    }
  })
  return { nodes, untracked: status.extra }
}
