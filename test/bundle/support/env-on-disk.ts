/**
 * Lays out an environment the way `create` leaves it (a .cec git repository with a pyproject,
 * tracked workflows, ComfyUI/custom_nodes) with real files and a real git commit, so export can be
 * tested without cloning ComfyUI or building a venv.
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { openGit } from '../../../sidecar/git'
import { writeManifest, type NodeEntry, type Pyproject, type WorkflowEntry, type ModelEntry } from '../../../sidecar/manifest'
import { Workspace, type EnvPaths } from '../../../sidecar/workspace'

/**
 * The real-workflow corpus committed with the workflow tests (licenses alongside). Benches run this
 * file bundled from .bench/, so fall back to the path from the repository root.
 */
export const CORPUS = [join(import.meta.dirname, '..', '..', 'workflows', 'corpus'), resolve('test', 'workflows', 'corpus')]
  .find(p => existsSync(join(p, 'workflows')))!

export interface EnvSpec {
  name: string
  /** Corpus workflow file names (e.g. "default.json") tracked in .cec/workflows. */
  workflows?: string[]
  workflowEntries?: Record<string, Partial<WorkflowEntry>>
  nodes?: NodeEntry[]
  models?: Record<string, ModelEntry>
  /** Development node folders: name -> relative path -> content. */
  devNodes?: Record<string, Record<string, string | Buffer>>
}

export function manifestFor (spec: EnvSpec): Pyproject {
  const workflows: Record<string, WorkflowEntry> = {}
  for (const file of spec.workflows ?? []) {
    const name = file.replace(/\.json$/, '')
    workflows[name] = { path: `workflows/${file}`, nodes: [], ...spec.workflowEntries?.[name] }
  }
  return {
    project: { name: `comfydock-env-${spec.name}`, version: '0.1.0', 'requires-python': '>=3.11', dependencies: ['pyyaml'] },
    tool: {
      comfydock: {
        schema_version: 1,
        comfyui_version: 'v0.3.7',
        comfyui_version_type: 'release',
        python_version: '3.11',
        nodes: Object.fromEntries((spec.nodes ?? []).map(n => [n.registry_id ?? n.name, n])),
        workflows,
        models: spec.models ?? {},
      },
    },
  }
}

export async function makeEnvOnDisk (wsRoot: string, spec: EnvSpec): Promise<{ ws: Workspace, env: EnvPaths }> {
  const { workspace: ws } = await Workspace.init(wsRoot)
  const env = ws.env(spec.name)
  mkdirSync(env.cecWorkflows, { recursive: true })
  mkdirSync(env.customNodes, { recursive: true })
  mkdirSync(env.userWorkflows, { recursive: true })
  await writeManifest(env.pyproject, manifestFor(spec))
  writeFileSync(env.pythonVersionFile, '3.11\n')
  writeFileSync(env.cecGitignore, 'local.json\n.complete\n')
  writeFileSync(env.localSettings, JSON.stringify({ torch_backend: 'cpu', secret_path: '/home/me' }))
  for (const file of spec.workflows ?? []) {
    copyFileSync(join(CORPUS, 'workflows', file), join(env.cecWorkflows, file))
    copyFileSync(join(CORPUS, 'workflows', file), join(env.userWorkflows, file))
  }
  for (const [node, files] of Object.entries(spec.devNodes ?? {})) {
    for (const [rel, content] of Object.entries(files)) {
      const p = join(env.customNodes, node, rel)
      mkdirSync(join(p, '..'), { recursive: true })
      writeFileSync(p, content)
    }
  }
  writeFileSync(env.completeMarker, '')
  const git = openGit(env.cec)
  await git.init()
  await git.commit('Initial environment setup')
  return { ws, env }
}

export async function commitEnv (env: EnvPaths, message: string): Promise<void> {
  await openGit(env.cec).commit(message)
}
