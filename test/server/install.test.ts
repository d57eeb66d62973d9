import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readManifest } from '../../sidecar/manifest'
import { startSidecar, type RunningSidecar } from '../../sidecar/server'
import { startRegistryServer, type RegistryServer } from '../support/registry-server'
import { makeTempDir } from '../support/temp-dir'
import { buildWheel, localIndexEnv } from '../support/wheels'
import { connect, type TestClient } from './client'
import { makeEnvWorkspace } from './fixture'

describe('nodes.install from the panel', () => {
  let registry: RegistryServer
  let sidecar: RunningSidecar
  let client: TestClient
  let env: Awaited<ReturnType<typeof makeEnvWorkspace>>
  let indexEnv: Record<string, string> = {}

  beforeAll(async () => {
    // the pack's one requirement comes from a local wheel (a name no index has)
    const wheels = makeTempDir('wheels')
    await buildWheel(wheels, { name: 'tinydep', version: '1.0.0' })
    indexEnv = localIndexEnv([wheels])
    Object.assign(process.env, indexEnv)
    registry = await startRegistryServer([
      { id: 'comfyui-tiny-pack', repository: 'https://github.com/example/ComfyUI-Tiny-Pack', versions: [{ version: '1.0.0', classes: ['TinyNode'], files: { '__init__.py': 'NODE_CLASS_MAPPINGS = {}\n', 'requirements.txt': 'tinydep>=1.0\n' } }] },
    ])
    env = await makeEnvWorkspace('demo')
    await env.ws.setConfig('registry_url', registry.url)
    sidecar = await startSidecar({ workspaceRoot: env.root })
    client = await connect(sidecar.wsUrl, sidecar.token)
  })
  afterAll(async () => {
    await client?.close()
    await sidecar?.close()
    await registry?.stop()
    for (const key of Object.keys(indexEnv)) delete process.env[key]
  })

  it('suggests the registry pack for a missing node type the workflow names no pack for', async () => {
    const json = { last_node_id: 1, last_link_id: 0, nodes: [{ id: 1, type: 'TinyNode', pos: [0, 0], size: [200, 80], flags: {}, order: 0, mode: 0, inputs: [], outputs: [], properties: {}, widgets_values: [] }], links: [], groups: [], config: {}, extra: {}, version: 0.4 }
    await client.call('session.context', { objectInfo: { hash: 'h', value: { KSampler: { python_module: 'nodes' } } } })
    const res = await client.call('workflows.analyze', { workflows: [{ name: 'tiny', json }] })
    expect(res.ok).toBe(true)
    if (res.ok) expect((res.result as any[])[0].missingNodes).toEqual([{ type: 'TinyNode', pack: 'comfyui-tiny-pack' }])
  })

  it('installs a registry pack into the environment, with progress, and reports failures per spec', async () => {
    const res = await client.call('nodes.install', { specs: ['comfyui-tiny-pack', 'no-such-pack-anywhere'] })
    expect(res.ok).toBe(true)
    if (!res.ok) return
    const result = res.result as { installed: string[], failed: Array<{ spec: string, error: { code: string } }> }
    expect(result.installed).toEqual(['comfyui-tiny-pack'])
    expect(result.failed.map(f => f.spec)).toEqual(['no-such-pack-anywhere'])
    expect(existsSync(join(env.comfyui, 'custom_nodes', 'ComfyUI-Tiny-Pack', '__init__.py'))).toBe(true)
    const doc = await readManifest(join(env.cec, 'pyproject.toml'))
    expect(doc.tool.comfydock.nodes?.['comfyui-tiny-pack']).toMatchObject({ version: '1.0.0', source: 'registry' })
    expect(client.events.some(e => e.event === 'progress')).toBe(true)
  })
})
