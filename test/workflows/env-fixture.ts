/**
 * A real workspace with one environment, as far as workflows need it: `.cec/` as a git repo with a
 * pyproject, the ComfyUI user workflows folder, and model files indexed by the real scanner. Network
 * sources point at a closed loopback port, so node resolution uses local answers only.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { openGit } from '../../sidecar/git'
import { writeManifest, type Pyproject } from '../../sidecar/manifest'
import { MODEL_SETTINGS, syncIndex } from '../../sidecar/models'
import { WORKSPACE_SETTINGS, Workspace, type EnvPaths } from '../../sidecar/workspace'
import { makeTempDir } from '../support/temp-dir'

export interface EnvFixture {
  ws: Workspace
  env: EnvPaths
  root: string
  /** Writes ComfyUI/user/default/workflows/<name>.json. */
  saveWorkflow: (name: string, doc: unknown) => string
  /** Writes a model file under the models dir ("checkpoints/sd15/x.safetensors") and re-indexes. */
  addModels: (files: Record<string, string>) => Promise<void>
}

export async function makeEnvFixture (envName = 'main'): Promise<EnvFixture> {
  const root = makeTempDir('wfenv')
  const { workspace: ws } = await Workspace.init(join(root, 'ws'))
  for (const key of ['registry_url', 'node_mappings_url', 'huggingface_url', 'civitai_url']) await ws.setConfig(key, 'http://127.0.0.1:9/', [...WORKSPACE_SETTINGS, ...MODEL_SETTINGS])
  const env = ws.env(envName)
  mkdirSync(env.cecWorkflows, { recursive: true })
  mkdirSync(env.userWorkflows, { recursive: true })
  mkdirSync(env.customNodes, { recursive: true })
  const doc: Pyproject = {
    project: { name: `comfydock-env-${envName}`, version: '0.1.0', dependencies: [] },
    tool: { comfydock: { schema_version: 1, comfyui_version: 'v0.3.7' } },
  }
  await writeManifest(env.pyproject, doc)
  writeFileSync(env.completeMarker, '')
  const git = openGit(env.cec)
  await git.init()
  await ws.setActive(envName)
  return {
    ws,
    env,
    root,
    saveWorkflow (name, wf) {
      const file = join(env.userWorkflows, `${name}.json`)
      writeFileSync(file, typeof wf === 'string' ? wf : JSON.stringify(wf, null, 2))
      return file
    },
    async addModels (files) {
      for (const [rel, content] of Object.entries(files)) {
        const file = join(ws.modelsDir, rel)
        mkdirSync(dirname(file), { recursive: true })
        writeFileSync(file, content.padEnd(64, '.'))
      }
      await syncIndex(ws)
    },
  }
}
