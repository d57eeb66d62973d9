/**
 * @module `exportManagerSnapshot`: the committed environment as a ComfyUI-Manager snapshot, the format
 * most other tools read (cm-cli, comfy-cli, Desktop's migration, RunPod workers): ComfyUI's commit,
 * registry packs by version, git packs by URL and commit, and the venv's packages as pins. JSON as
 * cm-cli writes it, or YAML (wrapped in `custom_nodes:`) when the file name ends in .yaml/.yml. What the
 * format cannot carry (development nodes, models, workflows) is listed as a warning, never dropped silently.
 */
import { mkdir } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { stringify as toYaml } from 'yaml'
import { ComfydockError } from '../errors'
import { isDirectory, pathExists, writeFileAtomic } from '../fs'
import { readManifest } from '../manifest'
import type { OnProgress } from '../protocol'
import { note } from '../progress'
import { openPythonBackend } from '../python'
import { venvPython, type EnvPaths, type Workspace } from '../workspace'
import { assertCommitted } from './export-checks'
import { localOnlySourceWarnings } from './portability'

/**
 * What `pip freeze` (which cm-cli's snapshot is) leaves out: the installers themselves. cm-cli restores
 * every pin in one `pip install`, so a `pip==` pin that the other machine's index lacks would fail them all.
 */
const FREEZE_LEAVES_OUT = new Set(['pip', 'setuptools', 'wheel', 'distribute'])

export interface SnapshotExportOptions {
  /** A file path (.json, .yaml, .yml), or an existing folder. Default: ./<env>_snapshot_<date>.json. */
  output?: string
  onProgress?: OnProgress
}

export interface ManagerSnapshotDoc {
  comfyui: string | null
  git_custom_nodes: Record<string, { hash: string, disabled: boolean }>
  cnr_custom_nodes: Record<string, string>
  file_custom_nodes: Array<{ filename: string, disabled: boolean }>
  pips: Record<string, string> | null
}

export interface SnapshotExportResult {
  path: string
  format: 'comfyui-manager-snapshot'
  snapshot: ManagerSnapshotDoc
  /** What the snapshot could not carry, and sources that will not resolve elsewhere. */
  warnings: string[]
}

async function outputPath (envName: string, output?: string): Promise<string> {
  const target = resolve(output ?? '.')
  if (output === undefined || await isDirectory(target)) return join(target, `${envName}_snapshot_${new Date().toISOString().slice(0, 10)}.json`)
  if (!/\.(json|ya?ml)$/i.test(target)) {
    throw new ComfydockError('INVALID_ARGUMENT', `a ComfyUI-Manager snapshot is a .json or .yaml file, not ${target}`, { hint: 'Name the file `<name>.json` or `<name>.yaml`.' })
  }
  if (!(await isDirectory(dirname(target)))) {
    throw new ComfydockError('FILE_NOT_FOUND', `cannot write ${target}: folder ${dirname(target)} does not exist`, { hint: 'Create the folder first, or pass another path.' })
  }
  return target
}

export async function exportManagerSnapshot (ws: Workspace, env: EnvPaths, opts: SnapshotExportOptions = {}): Promise<SnapshotExportResult> {
  await assertCommitted(env)
  const doc = await readManifest(env.pyproject)
  const c = doc.tool.comfydock
  const warnings: string[] = []
  const snapshot: ManagerSnapshotDoc = {
    comfyui: c.comfyui_commit_sha ?? null,
    git_custom_nodes: {},
    cnr_custom_nodes: {},
    file_custom_nodes: [],
    pips: null,
  }
  const dev: string[] = []
  for (const [id, n] of Object.entries(c.nodes ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    if (n.source === 'registry') snapshot.cnr_custom_nodes[n.registry_id ?? id] = n.version
    else if (n.source === 'git' && n.repository) snapshot.git_custom_nodes[n.repository] = { hash: n.version, disabled: false }
    else dev.push(n.name ?? id)
  }
  if (dev.length) warnings.push(`development nodes are not in the snapshot (the format has no way to carry their files): ${dev.join(', ')}; share them with a comfydock bundle (\`comfydock export\`)`)
  if (await pathExists(venvPython(env.venv))) {
    const installed = await (await openPythonBackend(ws, env)).installed()
    snapshot.pips = Object.fromEntries(Object.entries(installed)
      .filter(([name]) => !FREEZE_LEAVES_OUT.has(name.toLowerCase()))
      .sort(([a], [b]) => a.localeCompare(b)).map(([name, version]) => [`${name}==${version}`, '']))
  } else {
    warnings.push(`the environment has no venv, so the snapshot has no pips; run \`comfydock -e ${env.name} repair\` first to include them`)
  }
  const models = Object.keys(c.models ?? {}).length
  const workflows = Object.keys(c.workflows ?? {}).length
  if (models || workflows) warnings.push(`a ComfyUI-Manager snapshot carries no models or workflows: ${models} model(s) and ${workflows} workflow(s) are left out (a comfydock bundle carries them)`)
  warnings.push(...localOnlySourceWarnings(doc))
  for (const w of warnings) note(opts.onProgress, 'warn', w)

  const path = await outputPath(env.name, opts.output)
  await mkdir(dirname(path), { recursive: true })
  const text = /\.ya?ml$/i.test(path) ? toYaml({ custom_nodes: snapshot }) : JSON.stringify(snapshot, null, 4)
  await writeFileAtomic(path, text)
  return { path, format: 'comfyui-manager-snapshot', snapshot, warnings }
}
