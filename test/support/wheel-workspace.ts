/**
 * A CLI workspace whose packs need only local wheels: a ComfyUI repository to create environments
 * from, the wheels built into one folder, both installers pointed at those folders alone, and a
 * registry serving the given packs.
 */
import { join } from 'node:path'
import { runCli } from './cli'
import { makeComfyuiRepo, type ComfyuiRepo } from './comfyui-repo'
import { startRegistryServer, type FakePack, type RegistryServer } from './registry-server'
import { buildWheel, localIndexEnv } from './wheels'

export interface WheelWorkspace {
  repo: ComfyuiRepo
  server: RegistryServer
  /** The workspace folder, for `--workspace`. */
  ws: string
  /** The environment variables that keep pip and uv to the local wheels. */
  indexEnv: Record<string, string>
}

export async function makeWheelWorkspace (dir: string, wheels: Array<[name: string, version: string]>, packs: FakePack[]): Promise<WheelWorkspace> {
  const repo = await makeComfyuiRepo(dir)
  const wheelDir = join(dir, 'wheels')
  for (const [name, version] of wheels) await buildWheel(wheelDir, { name, version })
  const indexEnv = localIndexEnv([repo.findLinks, wheelDir])
  const server = await startRegistryServer(packs)
  const ws = join(dir, 'ws')
  runCli(['init', ws])
  runCli(['config', 'comfyui_source', repo.url], { workspace: ws })
  runCli(['config', 'registry_url', server.url], { workspace: ws })
  return { repo, server, ws, indexEnv }
}
