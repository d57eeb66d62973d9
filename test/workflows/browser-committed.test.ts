/**
 * Finding 6: workflows committed from the panel while `serve` runs beside the user's own ComfyUI have no
 * copy in the environment's user folder. The CLI must see them as tracked and in sync, and a CLI commit
 * must never untrack them. The panel's commit goes over the real sidecar WebSocket; the CLI runs as a user
 * runs it.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readManifest } from '../../sidecar/manifest'
import { startSidecar, type RunningSidecar } from '../../sidecar/server'
import { connect, type TestClient } from '../server/client'
import { makeEnvWorkspace } from '../server/fixture'
import { runCliAsync } from '../support/cli'

function graph (width: number): Record<string, unknown> {
  return {
    last_node_id: 2,
    last_link_id: 0,
    nodes: [
      { id: 1, type: 'EmptyLatentImage', pos: [0, 0], size: [300, 100], flags: {}, order: 0, mode: 0, inputs: [], outputs: [], properties: {}, widgets_values: [width, 512, 1] },
      { id: 2, type: 'SaveImage', pos: [400, 0], size: [300, 100], flags: {}, order: 1, mode: 0, inputs: [], outputs: [], properties: {}, widgets_values: ['x'] },
    ],
    links: [],
    groups: [],
    config: {},
    extra: {},
    version: 0.4,
  }
}

describe('workflows committed from the panel of another ComfyUI', () => {
  let sidecar: RunningSidecar
  let panel: TestClient
  let env: Awaited<ReturnType<typeof makeEnvWorkspace>>
  let userDir: string
  const cli = (args: string[]) => runCliAsync(['-e', 'demo', ...args], { workspace: env.root })

  beforeAll(async () => {
    env = await makeEnvWorkspace('demo')
    userDir = join(env.comfyui, 'user', 'default', 'workflows')
    sidecar = await startSidecar({ workspaceRoot: env.root })
    panel = await connect(sidecar.wsUrl, sidecar.token)
    // the user's own ComfyUI holds these tabs; the environment's user folder never sees them
    const res = await panel.call('workflows.commit', { message: 'from my ComfyUI', workflows: [{ name: 'portrait', json: graph(512) }, { name: 'my flow ü', json: graph(640) }] })
    expect(res.ok).toBe(true)
    expect(existsSync(join(userDir, 'portrait.json'))).toBe(false)
  })
  afterAll(async () => {
    await panel?.close()
    await sidecar?.close()
  })

  it('workflow list shows them tracked and in sync, living in the browser', async () => {
    const res = await cli(['workflow', 'list', '--json'])
    expect(res.code, res.stderr).toBe(0)
    expect(res.json().workflows).toEqual([
      { name: 'my flow ü', tracked: true, state: 'synced', location: 'browser' },
      { name: 'portrait', tracked: true, state: 'synced', location: 'browser' },
    ])
    expect((await cli(['workflow', 'list'])).stdout).toContain('lives in the browser')
  })

  it('status does not call them deleted nor suggest a commit that would drop them', async () => {
    const res = await cli(['status', '--json'])
    const wf = res.json().sections.workflows
    expect(wf.workflows.map((w: any) => [w.name, w.state])).toEqual([['my flow ü', 'synced'], ['portrait', 'synced']])
    expect(wf.ok).toBe(true)
    expect(JSON.stringify(wf)).not.toContain('remove deleted workflow')
    expect(res.json().sections.repair?.details ?? []).not.toContainEqual(expect.stringContaining('portrait'))
  })

  it('a CLI commit of something else keeps them tracked, with their snapshots', async () => {
    writeFileSync(join(env.cec, 'notes.txt'), 'a change made on the command line\n')
    const res = await cli(['commit', '-m', 'notes'])
    expect(res.code, res.stderr).toBe(0)
    const doc = await readManifest(join(env.cec, 'pyproject.toml'))
    expect(Object.keys(doc.tool.comfydock.workflows ?? {}).sort()).toEqual(['my flow ü', 'portrait'])
    expect(JSON.parse(readFileSync(join(env.cec, 'workflows', 'portrait.json'), 'utf8'))).toEqual(graph(512))
    expect(JSON.parse(readFileSync(join(env.cec, 'workflows', 'my flow ü.json'), 'utf8'))).toEqual(graph(640))
  })

  it('once saved into the environment\'s own user folder it lives there, and deleting that copy is a deletion again', async () => {
    writeFileSync(join(userDir, 'portrait.json'), JSON.stringify(graph(768)))
    let list = (await cli(['workflow', 'list', '--json'])).json().workflows
    expect(list.find((w: any) => w.name === 'portrait')).toEqual({ name: 'portrait', tracked: true, state: 'modified', location: 'user-folder' })
    expect((await cli(['commit', '-m', 'portrait from the folder'])).code).toBe(0)
    rmSync(join(userDir, 'portrait.json'))
    list = (await cli(['workflow', 'list', '--json'])).json().workflows
    expect(list.find((w: any) => w.name === 'portrait')).toMatchObject({ state: 'deleted', location: null })
    // the other one still lives in the browser
    expect(list.find((w: any) => w.name === 'my flow ü')).toMatchObject({ state: 'synced', location: 'browser' })
  })

  it('untracking one forgets where it lived', async () => {
    expect((await cli(['workflow', 'untrack', 'my flow ü'])).code).toBe(0)
    const list = (await cli(['workflow', 'list', '--json'])).json().workflows
    expect(list.find((w: any) => w.name === 'my flow ü')).toBeUndefined()
  })
})
