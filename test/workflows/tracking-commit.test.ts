import { readFileSync, existsSync, rmSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ComfydockError } from '../../sidecar/errors'
import { readManifest } from '../../sidecar/manifest'
import { listWorkflows, prepareWorkflowCommit, trackWorkflows, untrackWorkflows } from '../../sidecar/workflows'
import { makeEnvFixture } from './env-fixture'

const ckptNode = (id: number, value: string, extra: Record<string, unknown> = {}) => ({ id, type: 'CheckpointLoaderSimple', mode: 0, widgets_values: [value], ...extra })
const wf = (nodes: unknown[], extra: Record<string, unknown> = {}) => ({ version: 0.4, nodes, links: [], extra: { ds: { scale: 1, offset: [0, 0] } }, ...extra })

async function rejection (p: Promise<unknown>): Promise<ComfydockError> {
  try { await p } catch (err) { return err as ComfydockError }
  throw new Error('did not reject')
}

describe('tracking and sync state', () => {
  it('lists untracked, new, synced, modified and deleted workflows', async () => {
    const f = await makeEnvFixture()
    f.saveWorkflow('a', wf([ckptNode(1, 'a.safetensors')]))
    f.saveWorkflow('b', wf([ckptNode(1, 'b.safetensors')]))
    f.saveWorkflow('c', wf([ckptNode(1, 'c.safetensors')]))
    expect((await listWorkflows(f.ws, f.env)).map(e => e.state)).toEqual(['untracked', 'untracked', 'untracked'])
    expect(await trackWorkflows(f.env, 'all')).toEqual(['a', 'b', 'c'])
    expect((await listWorkflows(f.ws, f.env)).map(e => e.state)).toEqual(['new', 'new', 'new'])
    await prepareWorkflowCommit(f.ws, f.env, { allowIssues: true })
    f.saveWorkflow('a', wf([ckptNode(1, 'a2.safetensors')]))
    rmSync(`${f.env.userWorkflows}/c.json`)
    expect((await listWorkflows(f.ws, f.env)).map(e => [e.name, e.state])).toEqual([['a', 'modified'], ['b', 'synced'], ['c', 'deleted']])
  })

  it('ignores canvas position, frontend version and re-rolled seeds when comparing', async () => {
    const f = await makeEnvFixture()
    const sampler = (seed: number) => ({ id: 3, type: 'KSampler', widgets_values: [seed, 'randomize', 20, 8, 'euler', 'normal', 1] })
    f.saveWorkflow('w', wf([sampler(1)], { revision: 1 }))
    await trackWorkflows(f.env, ['w'])
    await prepareWorkflowCommit(f.ws, f.env)
    f.saveWorkflow('w', { ...wf([sampler(99)], { revision: 7 }), extra: { ds: { scale: 2, offset: [5, 5] }, frontendVersion: '1.30.0' } })
    expect((await listWorkflows(f.ws, f.env))[0].state).toBe('synced')
    f.saveWorkflow('w', wf([{ ...sampler(1), widgets_values: [1, 'randomize', 30, 8, 'euler', 'normal', 1] }]))
    expect((await listWorkflows(f.ws, f.env))[0].state).toBe('modified')
  })

  it('refuses to track a workflow that is not saved, naming the ones that are', async () => {
    const f = await makeEnvFixture()
    f.saveWorkflow('real', wf([]))
    const err = await rejection(trackWorkflows(f.env, ['ghost']))
    expect([err.code, err.hint]).toEqual(['WORKFLOW_NOT_FOUND', expect.stringContaining('real')])
  })

  it('untracks: the entry and the snapshot go, the live file stays', async () => {
    const f = await makeEnvFixture()
    f.saveWorkflow('w', wf([]))
    await trackWorkflows(f.env, ['w'])
    await prepareWorkflowCommit(f.ws, f.env)
    expect(existsSync(`${f.env.cecWorkflows}/w.json`)).toBe(true)
    await untrackWorkflows(f.env, ['w'])
    expect(existsSync(`${f.env.cecWorkflows}/w.json`)).toBe(false)
    expect(existsSync(`${f.env.userWorkflows}/w.json`)).toBe(true)
    expect((await untrackWorkflows(f.env, ['w']).catch(e => e)).code).toBe('WORKFLOW_NOT_TRACKED')
  })
})

describe('prepareWorkflowCommit', () => {
  it('writes nodes, models with criticality and the global models table, and snapshots the file', async () => {
    const f = await makeEnvFixture()
    await f.addModels({ 'checkpoints/sd15/dreamshaper_8.safetensors': 'dream', 'loras/add_detail.safetensors': 'detail' })
    f.saveWorkflow('portrait', wf([
      ckptNode(4, 'sd15\\dreamshaper_8.safetensors'),
      { id: 5, type: 'LoraLoader', mode: 4, widgets_values: ['add_detail.safetensors', 1, 1] },
      { id: 6, type: 'FaceDetailer', properties: { cnr_id: 'comfyui-impact-pack', ver: '8.8.1' }, widgets_values: [] },
    ]))
    await trackWorkflows(f.env, ['portrait'])
    const res = await prepareWorkflowCommit(f.ws, f.env, { allowIssues: true })
    expect(res.issues.map(i => i.fix)).toEqual(['comfydock node add comfyui-impact-pack'])
    const doc = await readManifest(f.env.pyproject)
    const entry = doc.tool.comfydock.workflows!.portrait
    expect(entry.path).toBe('workflows/portrait.json')
    expect(entry.nodes).toEqual(['comfyui-impact-pack'])
    expect(entry.models!.map(m => [m.filename, m.category, m.criticality, m.status])).toEqual([
      ['dreamshaper_8.safetensors', 'checkpoints', 'flexible', 'resolved'],
      ['add_detail.safetensors', 'loras', 'optional', 'resolved'],
    ])
    const hash = entry.models![0].hash!
    expect(doc.tool.comfydock.models![hash]).toEqual(expect.objectContaining({ filename: 'dreamshaper_8.safetensors', relative_path: 'checkpoints/sd15/dreamshaper_8.safetensors', category: 'checkpoints' }))
    expect(readFileSync(`${f.env.cecWorkflows}/portrait.json`, 'utf8')).toBe(readFileSync(`${f.env.userWorkflows}/portrait.json`, 'utf8'))
  })

  it('drops global model entries no workflow uses any more, but keeps ones added for the environment itself', async () => {
    const f = await makeEnvFixture()
    await f.addModels({ 'checkpoints/a.safetensors': 'model a', 'checkpoints/b.safetensors': 'model b', 'upscale_models/x4.pth': 'upscaler' })
    f.saveWorkflow('portrait', wf([ckptNode(1, 'a.safetensors')]))
    await trackWorkflows(f.env, ['portrait'])
    await prepareWorkflowCommit(f.ws, f.env)
    const { addModelToManifest } = await import('../../sidecar/models')
    const upscaler = await addModelToManifest(f.ws, f.env, 'x4.pth') // no workflow: the environment's own
    const before = (await readManifest(f.env.pyproject)).tool.comfydock
    const hashA = before.workflows!.portrait.models![0].hash!
    expect(Object.keys(before.models!).sort()).toEqual([hashA, upscaler.hash].sort())

    // the workflow switches from a to b: a is no longer needed by anything
    f.saveWorkflow('portrait', wf([ckptNode(1, 'b.safetensors')]))
    await prepareWorkflowCommit(f.ws, f.env)
    const after = (await readManifest(f.env.pyproject)).tool.comfydock
    const hashB = after.workflows!.portrait.models![0].hash!
    expect(hashB).not.toBe(hashA)
    expect(Object.keys(after.models!).sort()).toEqual([hashB, upscaler.hash].sort())
    expect(after.models![upscaler.hash!]).toMatchObject({ filename: 'x4.pth', criticality: 'flexible' })
  })

  it('blocks on issues with the fixing commands and leaves pyproject and snapshots untouched', async () => {
    const f = await makeEnvFixture()
    f.saveWorkflow('w', wf([ckptNode(1, 'missing.safetensors', { properties: { models: [{ name: 'missing.safetensors', url: 'https://example.invalid/missing.safetensors', directory: 'checkpoints' }] } })]))
    await trackWorkflows(f.env, ['w'])
    const before = readFileSync(f.env.pyproject, 'utf8')
    const err = await rejection(prepareWorkflowCommit(f.ws, f.env))
    expect(err.code).toBe('WORKFLOW_UNRESOLVED')
    expect(err.message).toContain('w: checkpoints/missing.safetensors is missing (downloadable from https://example.invalid/missing.safetensors) → comfydock workflow resolve w --install')
    expect(readFileSync(f.env.pyproject, 'utf8')).toBe(before)
    expect(existsSync(`${f.env.cecWorkflows}/w.json`)).toBe(false)
  })

  it('records a download intent for a missing model when issues are allowed', async () => {
    const f = await makeEnvFixture()
    f.saveWorkflow('w', wf([ckptNode(1, 'missing.safetensors')], { models: [{ name: 'missing.safetensors', url: 'https://example.invalid/m.safetensors', directory: 'checkpoints' }] }))
    await trackWorkflows(f.env, ['w'])
    await prepareWorkflowCommit(f.ws, f.env, { allowIssues: true })
    const m = (await readManifest(f.env.pyproject)).tool.comfydock.workflows!.w.models![0]
    expect([m.status, m.sources, m.relative_path]).toEqual(['unresolved', ['https://example.invalid/m.safetensors'], 'checkpoints/missing.safetensors'])
  })

  it('commits contents handed in directly instead of the file on disk', async () => {
    const f = await makeEnvFixture()
    await f.addModels({ 'vae/ae.safetensors': 'ae' })
    f.saveWorkflow('tab', wf([]))
    await trackWorkflows(f.env, ['tab'])
    const fromBrowser = wf([{ id: 1, type: 'VAELoader', widgets_values: ['ae.safetensors'] }])
    await prepareWorkflowCommit(f.ws, f.env, { contents: { tab: fromBrowser } })
    expect(JSON.parse(readFileSync(`${f.env.cecWorkflows}/tab.json`, 'utf8'))).toEqual(fromBrowser)
    expect((await readManifest(f.env.pyproject)).tool.comfydock.workflows!.tab.models![0].status).toBe('resolved')
  })

  it('drops a tracked workflow whose file was deleted', async () => {
    const f = await makeEnvFixture()
    f.saveWorkflow('gone', wf([]))
    await trackWorkflows(f.env, ['gone'])
    await prepareWorkflowCommit(f.ws, f.env)
    rmSync(`${f.env.userWorkflows}/gone.json`)
    const res = await prepareWorkflowCommit(f.ws, f.env)
    expect(res.removed).toEqual(['gone'])
    expect((await readManifest(f.env.pyproject)).tool.comfydock.workflows?.gone).toBeUndefined()
    expect(existsSync(`${f.env.cecWorkflows}/gone.json`)).toBe(false)
  })

  it('tracks and commits contents handed in for a workflow with no saved file (the browser\'s tab)', async () => {
    const f = await makeEnvFixture()
    await f.addModels({ 'vae/ae.safetensors': 'ae' })
    const tab = wf([{ id: 1, type: 'VAELoader', widgets_values: ['ae.safetensors'] }])
    expect(await trackWorkflows(f.env, ['tab'], { given: ['tab'] })).toEqual(['tab'])
    const res = await prepareWorkflowCommit(f.ws, f.env, { contents: { 'tab.json': tab } })
    expect(res.workflows.map(w => [w.name, w.state])).toEqual([['tab', 'new']])
    expect(existsSync(`${f.env.userWorkflows}/tab.json`)).toBe(false)
    expect(JSON.parse(readFileSync(`${f.env.cecWorkflows}/tab.json`, 'utf8'))).toEqual(tab)
    expect((await readManifest(f.env.pyproject)).tool.comfydock.workflows!.tab.models![0]).toMatchObject({ filename: 'ae.safetensors', category: 'vae', status: 'resolved' })
  })

  it('keepMissing: a tracked workflow neither handed in nor saved keeps its snapshot and entry', async () => {
    const f = await makeEnvFixture()
    await trackWorkflows(f.env, ['first'], { given: ['first'] })
    await prepareWorkflowCommit(f.ws, f.env, { contents: { first: wf([]) } })
    const entry = (await readManifest(f.env.pyproject)).tool.comfydock.workflows!.first
    await trackWorkflows(f.env, ['second'], { given: ['second'] })
    const res = await prepareWorkflowCommit(f.ws, f.env, { contents: { second: wf([]) }, keepMissing: true })
    // 'first' was handed in without a saved copy, so it lives in the browser: its last commit stands for it
    expect([res.kept, res.removed]).toEqual([[], []])
    expect(res.workflows.find(w => w.name === 'first')?.state).toBe('synced')
    expect((await readManifest(f.env.pyproject)).tool.comfydock.workflows!.first).toEqual(entry)
    expect(existsSync(`${f.env.cecWorkflows}/first.json`)).toBe(true)
  })

  it('refuses contents handed in under a name that is a path', async () => {
    const f = await makeEnvFixture()
    f.saveWorkflow('w', wf([]))
    await trackWorkflows(f.env, ['w'])
    const err = await rejection(prepareWorkflowCommit(f.ws, f.env, { contents: { '../escape': wf([]) } }))
    expect(err.code).toBe('INVALID_ARGUMENT')
  })

  it('reports a malformed tracked workflow by name', async () => {
    const f = await makeEnvFixture()
    f.saveWorkflow('bad', wf([]))
    await trackWorkflows(f.env, ['bad'])
    writeFileSync(`${f.env.userWorkflows}/bad.json`, '{"nodes": [')
    const err = await rejection(prepareWorkflowCommit(f.ws, f.env))
    expect([err.code, err.message]).toEqual(['WORKFLOW_INVALID', expect.stringContaining('bad.json: invalid JSON')])
  })
})
