/**
 * @module Packs on disk against pyproject.toml: missing (tracked, folder absent), extra (folder not
 * tracked), version-mismatched (git HEAD or the pack's own pyproject version differs from the pin).
 * Development nodes have no version to compare.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parse } from 'smol-toml'
import { run } from '../../exec'
import { pathExists } from '../../fs'
import { readManifest } from '../../manifest'
import type { EnvPaths, Workspace } from '../../workspace'
import { trackedPacks } from '../pack-manifest'
import { scanCustomNodes } from '../scan-custom-nodes'

export interface NodeMismatch {
  id: string
  expected: string
  actual: string
}

export interface NodeStatus {
  missing: string[]
  /** Folder names in custom_nodes that pyproject.toml does not track. */
  extra: string[]
  mismatched: NodeMismatch[]
  /** Tracked development nodes found only as `NAME.disabled`. */
  disabled: string[]
}

/** What is installed in a pack folder: the git commit, else the version in its own pyproject.toml. */
export async function installedVersion (dir: string): Promise<string | undefined> {
  if (await pathExists(join(dir, '.git'))) {
    const res = await run('git', ['-C', dir, 'rev-parse', 'HEAD'], { allowFailure: true })
    if (res.code === 0) return res.stdout.trim()
  }
  try {
    const doc = parse(await readFile(join(dir, 'pyproject.toml'), 'utf8')) as { project?: { version?: unknown } }
    return typeof doc.project?.version === 'string' ? doc.project.version : undefined
  } catch {
    return undefined
  }
}

export async function getNodeStatus (_ws: Workspace, env: EnvPaths): Promise<NodeStatus> {
  const doc = await readManifest(env.pyproject)
  const scan = await scanCustomNodes(env.customNodes)
  const status: NodeStatus = { missing: [], extra: [], mismatched: [], disabled: [] }
  const tracked = new Set<string>()
  for (const [id, entry] of Object.entries(trackedPacks(doc))) {
    tracked.add(entry.name)
    if (!scan.enabled.includes(entry.name)) {
      if (entry.source === 'development' && scan.disabled.includes(entry.name)) status.disabled.push(id)
      else status.missing.push(id)
      continue
    }
    if (entry.source === 'development') continue
    const actual = await installedVersion(join(env.customNodes, entry.name))
    if (actual !== undefined && actual !== entry.version) status.mismatched.push({ id, expected: entry.version, actual })
  }
  status.extra = scan.enabled.filter(f => !tracked.has(f))
  return status
}
