/**
 * A workspace with one minimal, committed environment, made with the real workspace code and real
 * git (creating a full environment needs a ComfyUI source and pip, which these tests do not exercise).
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { openGit } from '../../sidecar/git'
import { Workspace } from '../../sidecar/workspace'
import { makeTempDir } from '../support/temp-dir'

export const PYPROJECT = `[project]
name = "comfydock-env-demo"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = []

[tool.comfydock]
schema_version = 1
comfyui_version = "v0.3.7"
comfyui_version_type = "release"
python_version = "3.11"
`

export async function makeEnvWorkspace (name = 'demo'): Promise<{ root: string, ws: Workspace, cec: string, comfyui: string }> {
  const root = makeTempDir('srv')
  const { workspace } = await Workspace.init(root)
  const env = workspace.env(name)
  await mkdir(env.cecWorkflows, { recursive: true })
  await mkdir(env.userWorkflows, { recursive: true })
  await mkdir(env.customNodes, { recursive: true })
  await writeFile(env.pyproject, PYPROJECT)
  await writeFile(env.completeMarker, '')
  await writeFile(env.cecGitignore, '.complete\nlocal.json\n')
  const git = openGit(env.cec)
  await git.init()
  await git.commit('Initial environment setup')
  await workspace.setActive(name)
  return { root, ws: workspace, cec: env.cec, comfyui: env.comfyui }
}
