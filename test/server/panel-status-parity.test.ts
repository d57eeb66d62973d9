/**
 * The panel and `comfydock status` report the same facts about a workflow: both come from one core call.
 * A model in a subfolder of its category is found by both; what is missing is missing in both.
 */
import { readFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { commitEnvironment } from '../../sidecar/env'
import { syncIndex } from '../../sidecar/models'
import { startSidecar, type RunningSidecar } from '../../sidecar/server'
import { trackWorkflows } from '../../sidecar/workflows'
import { runCliAsync } from '../support/cli'
import { connect, type TestClient } from './client'
import { makeEnvWorkspace } from './fixture'

const HARNESS = resolve(import.meta.dirname, '..', 'e2e', 'harness')
const objectInfo = JSON.parse(readFileSync(join(HARNESS, 'object-info.json'), 'utf8'))

const loader = (id: number, ckpt: string) => ({ id, type: 'CheckpointLoaderSimple', pos: [0, 0], size: [300, 100], flags: {}, order: 0, mode: 0, inputs: [], outputs: [], properties: {}, widgets_values: [ckpt] })
const WORKFLOW = {
  last_node_id: 3,
  last_link_id: 0,
  nodes: [
    loader(1, 'sdxl/base_in_subfolder.safetensors'),
    loader(2, 'sdxl/not_here.safetensors'),
    // a pack the workflow names but the environment does not have
    { id: 3, type: 'ImpactWildcardProcessor', pos: [400, 0], size: [300, 100], flags: {}, order: 1, mode: 0, inputs: [], outputs: [], properties: { cnr_id: 'comfyui-impact-pack', ver: '8.8.1' }, widgets_values: [] },
  ],
  links: [],
  groups: [],
  config: {},
  extra: {},
  version: 0.4,
}

describe('the panel\'s analysis and `status --json` agree', () => {
  let env: Awaited<ReturnType<typeof makeEnvWorkspace>>
  let sidecar: RunningSidecar
  let client: TestClient

  beforeAll(async () => {
    env = await makeEnvWorkspace('demo')
    await mkdir(join(env.ws.modelsDir, 'checkpoints', 'sdxl'), { recursive: true })
    await writeFile(join(env.ws.modelsDir, 'checkpoints', 'sdxl', 'base_in_subfolder.safetensors'), Buffer.alloc(8192, 3))
    await syncIndex(env.ws)
    const paths = env.ws.env('demo')
    await writeFile(join(paths.userWorkflows, 'art.json'), JSON.stringify(WORKFLOW))
    await trackWorkflows(paths, ['art'])
    await commitEnvironment(env.ws, paths, { message: 'art', allowIssues: true })
    sidecar = await startSidecar({ workspaceRoot: env.root })
    client = await connect(sidecar.wsUrl, sidecar.token)
  })
  afterAll(async () => {
    await client?.close()
    await sidecar?.close()
  })

  it('on missing models (a subfolder model is ok in both) and missing packs', async () => {
    const cli = await runCliAsync(['-e', 'demo', 'status', '--json'], { workspace: env.root })
    const status = cli.json<any>()
    const entry = status.sections.workflows.workflows.find((w: any) => w.name === 'art')
    const cliModels = entry.missing_models.map((m: any) => `${m.folder}/${m.path}`).sort()
    const cliNodes = entry.missing_nodes.map((n: any) => `${n.type} ${n.pack}`).sort()

    // ComfyUI lists the subfolder model too, with its own separator
    const modelLists = { checkpoints: ['sdxl\\base_in_subfolder.safetensors'] }
    expect(await client.call('session.context', { objectInfo: { hash: 'oi', value: objectInfo }, modelLists: { hash: 'ml', value: modelLists } })).toMatchObject({ ok: true })
    const res = await client.call('workflows.analyze', { workflows: [{ name: 'art', json: WORKFLOW, saved: true }] })
    if (!res.ok) throw new Error(res.error.message)
    const [panel] = res.result as any[]
    const panelModels = panel.missingModels.map((m: any) => `${m.folder}/${m.value}`).sort()
    const panelNodes = panel.missingNodes.map((n: any) => `${n.type} ${n.pack}`).sort()

    expect(cliModels).toEqual(['checkpoints/sdxl/not_here.safetensors'])
    expect(panelModels).toEqual(cliModels)
    expect(cliNodes).toEqual(['ImpactWildcardProcessor comfyui-impact-pack'])
    expect(panelNodes).toEqual(cliNodes)
  })

  it('an installed pack whose node types ComfyUI lacks is "failed to load" in the panel, installed for `status`', async () => {
    const paths = env.ws.env('demo')
    await mkdir(join(paths.customNodes, 'quiet-pack'), { recursive: true })
    const wf = { ...WORKFLOW, nodes: [{ ...WORKFLOW.nodes[2], type: 'QuietNode', properties: { cnr_id: 'quiet-pack', ver: '1.0.0' } }] }
    const res = await client.call('workflows.analyze', { workflows: [{ name: 'quiet', json: wf }] })
    if (!res.ok) throw new Error(res.error.message)
    const [panel] = res.result as any[]
    // no import error in ComfyUI's log was handed over: the absence from /object_info is the reason given
    expect(panel.missingNodes).toEqual([{ type: 'QuietNode', pack: 'quiet-pack', loadError: expect.stringContaining('/object_info') }])
  })
})
