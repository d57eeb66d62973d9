import { readFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openGit } from '../../sidecar/git'
import { readManifest, writeManifest } from '../../sidecar/manifest'
import { syncIndex } from '../../sidecar/models'
import { startSidecar, type RunningSidecar } from '../../sidecar/server'
import { connect, type TestClient } from './client'
import { makeEnvWorkspace } from './fixture'

const HARNESS = resolve(import.meta.dirname, '..', 'e2e', 'harness')
const objectInfo = JSON.parse(readFileSync(join(HARNESS, 'object-info.json'), 'utf8'))
const modelLists = JSON.parse(readFileSync(join(HARNESS, 'models.json'), 'utf8'))
delete modelLists.folders

/** A UI-format workflow: a checkpoint loader (file given) and a custom node from a registry pack. */
function uiWorkflow (ckpt: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    last_node_id: 2,
    last_link_id: 0,
    nodes: [
      { id: 1, type: 'CheckpointLoaderSimple', pos: [0, 0], size: [300, 100], flags: {}, order: 0, mode: 0, inputs: [], outputs: [], properties: {}, widgets_values: [ckpt] },
      { id: 2, type: 'ImpactWildcardProcessor', pos: [400, 0], size: [300, 100], flags: {}, order: 1, mode: 0, inputs: [], outputs: [], properties: { cnr_id: 'comfyui-impact-pack', ver: '8.8.1' }, widgets_values: [] },
    ],
    links: [],
    groups: [],
    config: {},
    extra: { ds: { scale: 1, offset: [0, 0] }, ...extra },
    version: 0.4,
  }
}

describe('sidecar methods over the WebSocket', () => {
  let sidecar: RunningSidecar
  let client: TestClient
  let env: Awaited<ReturnType<typeof makeEnvWorkspace>>

  beforeAll(async () => {
    env = await makeEnvWorkspace('demo')
    sidecar = await startSidecar({ workspaceRoot: env.root, origins: ['http://127.0.0.1:8188'] })
    client = await connect(sidecar.wsUrl, sidecar.token, 'http://127.0.0.1:8188')
  })
  afterAll(async () => {
    await client?.close()
    await sidecar?.close()
  })

  it('server.hello names the protocol, workspace, methods and active environment', async () => {
    const res = await client.call('server.hello', {})
    expect(res.ok).toBe(true)
    if (!res.ok) return
    const hello = res.result as any
    expect(hello.protocol).toBe(2)
    expect(hello.workspace).toBe(env.root)
    expect(hello.activeEnv).toBe('demo')
    expect(hello.methods).toEqual(expect.arrayContaining(['env.status', 'env.log', 'workflows.analyze']))
  })

  it('env.status reports the ComfyUI version and uncommitted files of .cec', async () => {
    let res = await client.call('env.status', {})
    expect(res.ok && res.result).toMatchObject({ env: 'demo', comfyuiVersion: 'v0.3.7', clean: true, changes: [] })
    await writeFile(join(env.cec, 'workflows', 'draft.json'), '{}')
    res = await client.call('env.status', { env: 'demo' })
    expect(res.ok && res.result).toMatchObject({ clean: false, changes: ['workflows/draft.json'] })
    await openGit(env.cec).commit('add draft')
  })

  it('env.status with full adds every section of the environment status', async () => {
    const res = await client.call('env.status', { full: true })
    expect(res.ok).toBe(true)
    if (!res.ok) return
    const details = (res.result as any).details
    expect(Object.keys(details.sections)).toEqual(expect.arrayContaining(['git', 'comfyui', 'python']))
  })

  it('env.log lists commits newest first with short ids', async () => {
    const res = await client.call('env.log', {})
    expect(res.ok).toBe(true)
    const log = (res.ok ? res.result : []) as any[]
    expect(log.map(e => e.subject)).toEqual(['add draft', 'Initial environment setup'])
    expect(log[0].short.length).toBeGreaterThanOrEqual(7)
  })

  it('env.log with workflows says which of them each commit holds (Restore is offered on those only)', async () => {
    const res = await client.call('env.log', { workflows: ['draft', 'never committed', 'draft'] })
    expect(res.ok).toBe(true)
    const log = (res.ok ? res.result : []) as any[]
    expect(log.map(e => [e.subject, e.workflows])).toEqual([['add draft', ['draft']], ['Initial environment setup', []]])
  })

  it('an unknown environment is an ENV_NOT_FOUND error with a hint', async () => {
    const res = await client.call('env.status', { env: 'nope' })
    expect(res.ok).toBe(false)
    if (!res.ok) {
      expect(res.error.code).toBe('ENV_NOT_FOUND')
      expect(res.error.hint).toBeTruthy()
    }
  })

  it('workflows.analyze finds models and node packs this ComfyUI lacks', async () => {
    // a model in a subfolder of its category, indexed as `status` knows it
    await mkdir(join(env.ws.modelsDir, 'checkpoints', 'sd15'), { recursive: true })
    await writeFile(join(env.ws.modelsDir, 'checkpoints', 'sd15', 'dreamshaper_8.safetensors'), Buffer.alloc(4096, 8))
    await syncIndex(env.ws)
    expect(await client.call('session.context', { objectInfo: { hash: 'oi-1', value: objectInfo }, modelLists: { hash: 'ml-1', value: modelLists } })).toMatchObject({ ok: true, result: { missing: [] } })
    const res = await client.call('workflows.analyze', {
      workflows: [{ name: 'portrait', json: uiWorkflow('sd15/missing_model.safetensors') }, { name: 'ok', json: uiWorkflow('sd15/dreamshaper_8.safetensors') }],
    })
    expect(res.ok).toBe(true)
    if (!res.ok) return
    const [portrait, ok] = res.result as any[]
    expect(portrait).toMatchObject({ name: 'portrait', tracked: false, differsFromCommit: true })
    expect(portrait.missingModels).toEqual([expect.objectContaining({ value: 'sd15/missing_model.safetensors', folder: 'checkpoints', nodeType: 'CheckpointLoaderSimple' })])
    expect(portrait.missingNodes).toEqual([{ type: 'ImpactWildcardProcessor', pack: 'comfyui-impact-pack' }])
    expect(ok.missingModels).toEqual([])
  })

  it('workflows.analyze tells a committed workflow from an edited one, ignoring canvas pan/zoom', async () => {
    const committed = uiWorkflow('sd15/dreamshaper_8.safetensors')
    await writeFile(join(env.cec, 'workflows', 'saved.json'), JSON.stringify(committed, null, 2))
    await openGit(env.cec).commit('track saved')
    const panned = uiWorkflow('sd15/dreamshaper_8.safetensors', { ds: { scale: 2, offset: [50, 9] } })
    const edited = uiWorkflow('sdxl/sd_xl_base_1.0.safetensors')
    const res = await client.call('workflows.analyze', { workflows: [{ name: 'saved', json: panned }, { name: 'saved', json: edited }] })
    expect(res.ok).toBe(true)
    if (!res.ok) return
    const [same, changed] = res.result as any[]
    expect(same).toMatchObject({ tracked: true, differsFromCommit: false })
    expect(changed).toMatchObject({ tracked: true, differsFromCommit: true })
  })

  it('workflows.analyze offers the download source and hash the manifest records for a missing model', async () => {
    const file = join(env.cec, 'pyproject.toml')
    const doc = await readManifest(file)
    doc.tool.comfydock.workflows = { imported: { path: 'workflows/imported.json', nodes: [], models: [{ filename: 'sd15/from_bundle.safetensors', category: 'checkpoints', criticality: 'flexible', status: 'resolved', hash: 'abc123def4567890', nodes: [{ node_id: '1', node_type: 'CheckpointLoaderSimple', widget_idx: 0, widget_value: 'sd15/from_bundle.safetensors' }] }] } }
    doc.tool.comfydock.models = { abc123def4567890: { filename: 'from_bundle.safetensors', size: 10, sources: ['https://example.invalid/from_bundle.safetensors'] } }
    await writeManifest(file, doc)
    const res = await client.call('workflows.analyze', { workflows: [{ name: 'imported', json: uiWorkflow('sd15/from_bundle.safetensors') }] })
    expect(res.ok).toBe(true)
    if (!res.ok) return
    expect((res.result as any[])[0].missingModels).toEqual([expect.objectContaining({ value: 'sd15/from_bundle.safetensors', url: 'https://example.invalid/from_bundle.safetensors', hash: 'abc123def4567890' })])
    await openGit(env.cec).commit('imported workflow entry')
  })

  it('a workflow that cannot be read is reported per workflow, the others still analysed', async () => {
    const res = await client.call('workflows.analyze', { workflows: [{ name: 'broken', json: { nodes: 'nope' } }, { name: 'fine', json: uiWorkflow('x.safetensors') }] })
    expect(res.ok).toBe(true)
    if (!res.ok) return
    const [broken, fine] = res.result as any[]
    expect(broken.error?.code).toBeTruthy()
    expect(fine.error).toBeUndefined()
  })

  it('sends only frames that match the protocol schema the panel validates with', () => {
    for (const c of [client]) expect(c.invalid).toEqual([])
  })

  it('answers two clients at once', async () => {
    const other = await connect(sidecar.wsUrl, sidecar.token)
    const [a, b] = await Promise.all([client.call('env.status', {}), other.call('env.log', {})])
    expect(a.ok && b.ok).toBe(true)
    await other.close()
  })
})
