/**
 * @module What a pull changes, for people to read before anything happens: packs, Python packages,
 * models, workflows, the ComfyUI and Python versions. Pure: compares two snapshots.
 */
import type { Pyproject } from '../../manifest'
import { type CecSnapshot, workflowFile } from './snapshot'
import { keysOf, same } from './three-way'

export interface Change<T = string> { name: string, from?: T, to?: T }

export interface ChangeSet {
  packs: { added: Change[], removed: Change[], changed: Change[] }
  /** Requirement lines of the environment and its packs' groups. */
  python: { added: string[], removed: string[] }
  models: { added: Change[], removed: Change[] }
  workflows: { added: string[], removed: string[], changed: string[] }
  comfyui?: Change
  python_version?: Change
  /** Other tracked files that change (uv.lock, .gitignore …). */
  files: string[]
  empty: boolean
}

const packVersion = (e: { version: string }): string => (/^[0-9a-f]{40}$/.test(e.version) ? e.version.slice(0, 12) : e.version)

function requirementLines (doc: Pyproject): Set<string> {
  return new Set([...(doc.project?.dependencies ?? []), ...Object.values(doc['dependency-groups'] ?? {}).flat()])
}

export function describeChanges (before: CecSnapshot, after: CecSnapshot): ChangeSet {
  const a = before.manifest.tool.comfydock; const b = after.manifest.tool.comfydock
  const packs: ChangeSet['packs'] = { added: [], removed: [], changed: [] }
  for (const id of keysOf(a.nodes, b.nodes)) {
    const x = a.nodes?.[id]; const y = b.nodes?.[id]
    if (!x && y) packs.added.push({ name: id, to: packVersion(y) })
    else if (x && !y) packs.removed.push({ name: id, from: packVersion(x) })
    else if (x && y && !same(x, y)) packs.changed.push({ name: id, from: packVersion(x), to: packVersion(y) })
  }
  const ra = requirementLines(before.manifest); const rb = requirementLines(after.manifest)
  const python = { added: [...rb].filter(r => !ra.has(r)).sort(), removed: [...ra].filter(r => !rb.has(r)).sort() }
  const models: ChangeSet['models'] = { added: [], removed: [] }
  for (const hash of keysOf(a.models, b.models)) {
    const x = a.models?.[hash]; const y = b.models?.[hash]
    if (!x && y) models.added.push({ name: y.filename, to: hash })
    else if (x && !y) models.removed.push({ name: x.filename, from: hash })
  }
  const workflows: ChangeSet['workflows'] = { added: [], removed: [], changed: [] }
  const wfPaths = new Set<string>()
  for (const name of keysOf(a.workflows, b.workflows)) {
    const x = a.workflows?.[name]; const y = b.workflows?.[name]
    if (x) wfPaths.add(workflowFile(name, x))
    if (y) wfPaths.add(workflowFile(name, y))
    if (!x && y) workflows.added.push(name)
    else if (x && !y) workflows.removed.push(name)
    else if (x && y && (!same(x, y) || before.files[workflowFile(name, x)] !== after.files[workflowFile(name, y)])) workflows.changed.push(name)
  }
  const comfyui = a.comfyui_commit_sha !== b.comfyui_commit_sha || a.comfyui_version !== b.comfyui_version
    ? { name: 'ComfyUI', from: a.comfyui_version, to: b.comfyui_version }
    : undefined
  const pythonVersion = a.python_version !== b.python_version ? { name: 'Python', from: a.python_version, to: b.python_version } : undefined
  const files = keysOf(before.files, after.files).filter(p => !wfPaths.has(p) && before.files[p] !== after.files[p])
  const set: ChangeSet = { packs, python, models, workflows, files, empty: false, ...(comfyui ? { comfyui } : {}), ...(pythonVersion ? { python_version: pythonVersion } : {}) }
  set.empty = !comfyui && !pythonVersion && files.length === 0 &&
    [packs.added, packs.removed, packs.changed, python.added, python.removed, models.added, models.removed, workflows.added, workflows.removed, workflows.changed].every(l => l.length === 0)
  return set
}
