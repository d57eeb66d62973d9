/** @module Listing environments and choosing the active one. */
import { ComfydockError } from '../errors'
import { readManifest } from '../manifest'
import type { Workspace } from '../workspace'

export interface EnvironmentSummary {
  name: string
  path: string
  active: boolean
  /** False for a half-made environment (create or import did not finish). */
  complete: boolean
  comfyui_version?: string
  comfyui_commit_sha?: string
  python_version?: string
  /** Set when the manifest cannot be read. */
  problem?: string
}

export async function listEnvironments (ws: Workspace): Promise<EnvironmentSummary[]> {
  const out: EnvironmentSummary[] = []
  for (const e of await ws.listEnvironments()) {
    const summary: EnvironmentSummary = { name: e.name, path: e.path, active: e.active, complete: e.complete }
    try {
      const t = (await readManifest(ws.env(e.name).pyproject)).tool.comfydock
      Object.assign(summary, { comfyui_version: t.comfyui_version, comfyui_commit_sha: t.comfyui_commit_sha, python_version: t.python_version })
    } catch (err) {
      summary.problem = err instanceof Error ? err.message : String(err)
    }
    out.push(summary)
  }
  return out
}

export async function useEnvironment (ws: Workspace, name: string): Promise<{ name: string, previous: string | null }> {
  const env = await ws.requireEnv(name)
  const entry = (await ws.listEnvironments()).find(e => e.name === name)
  if (entry && !entry.complete) {
    throw new ComfydockError('ENV_INCOMPLETE', `environment "${name}" is half-made (its create or import did not finish)`, {
      hint: `Remove it with \`comfydock delete ${name}\` and create it again.`,
    })
  }
  const previous = ws.activeEnvironment
  await ws.setActive(env.name)
  return { name, previous }
}
