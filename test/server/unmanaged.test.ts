/** `serve` next to a ComfyUI that is no environment: nothing acts on the workspace's active environment (another ComfyUI). */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { comfyuiNextTo } from '../../sidecar/cli/commands/serve'
import { startSidecar, type RunningSidecar } from '../../sidecar/server'
import { makeTempDir } from '../support/temp-dir'
import { connect, type TestClient } from './client'
import { makeEnvWorkspace } from './fixture'

function fakeComfyui (dir: string): string {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'main.py'), '')
  writeFileSync(join(dir, 'folder_paths.py'), '')
  return dir
}

describe('a sidecar next to an unmanaged ComfyUI', () => {
  let env: Awaited<ReturnType<typeof makeEnvWorkspace>>
  let sidecar: RunningSidecar
  let client: TestClient
  let mine: string

  beforeAll(async () => {
    env = await makeEnvWorkspace('demo')
    mine = fakeComfyui(join(makeTempDir('unmanaged'), 'ComfyUI'))
    sidecar = await startSidecar({ workspaceRoot: env.root, unmanagedComfyui: mine })
    client = await connect(sidecar.wsUrl, sidecar.token)
  })
  afterAll(async () => {
    await client?.close()
    await sidecar?.close()
  })

  it('says so in hello and serves no environment, not the active one', async () => {
    expect(await client.call('server.hello', {})).toMatchObject({ ok: true, result: { activeEnv: null, unmanagedComfyui: mine } })
    const res = await client.call('env.status', {})
    expect(res).toMatchObject({ ok: false, error: { code: 'ENV_NO_ACTIVE' } })
    if (!res.ok) expect(res.error.hint).toContain('Adopt')
    // naming an environment still works
    expect(await client.call('env.status', { env: 'demo' })).toMatchObject({ ok: true })
  })

  it('`serve` tells an environment\'s own ComfyUI from one that is none', async () => {
    expect(await comfyuiNextTo(env.ws, mine)).toEqual({ unmanaged: mine })
    fakeComfyui(env.ws.env('demo').comfyui)
    expect(await comfyuiNextTo(env.ws, env.ws.env('demo').comfyui)).toEqual({ env: 'demo' })
    await expect(comfyuiNextTo(env.ws, makeTempDir('not-comfyui'))).rejects.toMatchObject({ code: 'NOT_A_COMFYUI' })
  })
})
