/**
 * @module Packs on disk against pyproject.toml: missing (tracked, folder absent), extra (folder not
 * tracked), version-mismatched (git HEAD or the pack's own pyproject version differs from the pin).
 * Development nodes have no version to compare.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parse } from 'smol-toml'
import { openGit } from '../../git/git'
import { pathExists } from '../../fs'
import { readManifest } from '../../manifest'
import { packDir, type EnvPaths, type Workspace } from '../../workspace'
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
    const head = await openGit(dir).head()
    if (head) return head
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
    const actual = await installedVersion(packDir(env, entry.name))
    if (actual !== undefined && actual.replace(/^v/, '') !== entry.version.replace(/^v/, '')) status.mismatched.push({ id, expected: entry.version, actual })
  }
  status.extra = scan.enabled.filter(f => !tracked.has(f))
  return status
}

export interface NodeStatusSection extends NodeStatus {
  ok: boolean
  summary: string
  details: string[]
  [key: string]: unknown
}

/** The `nodes` section of `comfydock status`. */
export async function getNodeStatusSection (ws: Workspace, env: EnvPaths): Promise<NodeStatusSection> {
  const s = await getNodeStatus(ws, env)
  const details = [
    ...s.missing.map(id => `missing: ${id} (run \`comfydock repair\` to install it)`),
    ...s.mismatched.map(m => `version mismatch: ${m.id} is at ${m.actual.slice(0, 12)}, pyproject pins ${m.expected.slice(0, 12)}`),
    ...s.extra.map(f => `untracked: ${f} (track it with \`comfydock node add --dev ${f}\`)`),
    ...s.disabled.map(id => `disabled: ${id}`),
  ]
  const ok = s.missing.length === 0 && s.mismatched.length === 0 && s.extra.length === 0
  const tracked = Object.keys(trackedPacks(await readManifest(env.pyproject))).length
  const summary = ok
    ? `${tracked} node pack${tracked === 1 ? '' : 's'}, all installed as pinned`
    : [s.missing.length && `${s.missing.length} missing`, s.mismatched.length && `${s.mismatched.length} at another version`, s.extra.length && `${s.extra.length} untracked`].filter(Boolean).join(', ')
  return { ok, summary, details, ...s }
}
