/**
 * A workspace with one environment folder holding a real pyproject.toml and custom_nodes/ — enough for
 * node resolution and status without building ComfyUI and a venv.
 */
import { mkdir } from 'node:fs/promises'
import { Workspace, type EnvPaths } from '../../sidecar/workspace'
import { writeManifest, type Pyproject } from '../../sidecar/manifest'
import { makeTempDir } from '../support/temp-dir'

export async function makeWorkspaceWithEnv (comfydock: Pyproject['tool']['comfydock'] = {}, config: Record<string, string> = {}): Promise<{ ws: Workspace, env: EnvPaths }> {
  const { workspace: ws } = await Workspace.init(makeTempDir('nodes'))
  for (const [k, v] of Object.entries(config)) await ws.setConfig(k, v)
  const env = ws.env('e1')
  await mkdir(env.customNodes, { recursive: true })
  await writeManifest(env.pyproject, {
    project: { name: 'comfydock-env-e1', version: '0.1.0', 'requires-python': '>=3.11', dependencies: [] },
    tool: { comfydock: { schema_version: 1, ...comfydock } },
  })
  return { ws, env }
}
