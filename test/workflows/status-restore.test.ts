import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openGit } from '../../sidecar/git'
import { readManifest } from '../../sidecar/manifest'
import { ModelIndex, syncIndex } from '../../sidecar/models'
import { getWorkflowStatus, prepareWorkflowCommit, resolveWorkflow, restoreWorkflow, setModelImportance, trackWorkflows } from '../../sidecar/workflows'
import { makeEnvFixture } from './env-fixture'

const wf = (nodes: unknown[]) => ({ version: 0.4, nodes, links: [] })
const ckpt = (v: string) => ({ id: 4, type: 'CheckpointLoaderSimple', widgets_values: [v] })

async function committed (f: Awaited<ReturnType<typeof makeEnvFixture>>, message: string) {
  await prepareWorkflowCommit(f.ws, f.env, { allowIssues: true })
  const git = openGit(f.env.cec)
  await git.add()
  return git.commit(message)
}

describe('getWorkflowStatus', () => {
  it('shows each workflow with its missing models and packs and the command that fixes it', async () => {
    const f = await makeEnvFixture()
    await f.addModels({ 'checkpoints/have.safetensors': 'have' })
    f.saveWorkflow('ok', wf([ckpt('have.safetensors')]))
    f.saveWorkflow('needs', { ...wf([ckpt('missing.safetensors'), { id: 9, type: 'FaceDetailer', properties: { cnr_id: 'comfyui-impact-pack' } }]),
      models: [{ name: 'missing.safetensors', url: 'https://example.invalid/missing.safetensors', directory: 'checkpoints' }] })
    f.saveWorkflow('loose', wf([]))
    await trackWorkflows(f.env, ['ok', 'needs'])
    const s = await getWorkflowStatus(f.ws, f.env)
    const by = Object.fromEntries(s.workflows.map(w => [w.name, w]))
    expect([by.ok.state, by.ok.issues, by.ok.fix]).toEqual(['new', [], 'comfydock commit -m "..."'])
    expect(by.needs.missing_models.map(m => [m.path, m.download?.url])).toEqual([['missing.safetensors', 'https://example.invalid/missing.safetensors']])
    expect(by.needs.missing_nodes.map(n => n.pack)).toEqual(['comfyui-impact-pack'])
    expect(by.needs.fix).toBe('comfydock node add comfyui-impact-pack')
    expect([by.loose.tracked, by.loose.fix]).toEqual([false, 'comfydock workflow track loose'])
  })

  it('sees a model that appears in the index after a cached status', async () => {
    const f = await makeEnvFixture()
    f.saveWorkflow('w', wf([ckpt('late.safetensors')]))
    await trackWorkflows(f.env, ['w'])
    expect((await getWorkflowStatus(f.ws, f.env)).workflows[0].missing_models).toHaveLength(1)
    await f.addModels({ 'checkpoints/late.safetensors': 'late' })
    expect((await getWorkflowStatus(f.ws, f.env)).workflows[0].missing_models).toHaveLength(0)
  })

  it('turns a committed model whose file went missing into a download from the source the manifest recorded', async () => {
    const f = await makeEnvFixture()
    await f.addModels({ 'checkpoints/gone.safetensors': 'gone' })
    const index = ModelIndex.open(f.ws)
    const [model] = index.findByFilename('gone.safetensors')
    index.addSource(model.hash, { type: 'url', url: 'http://127.0.0.1:9/gone.safetensors' })
    index.close()
    f.saveWorkflow('w', wf([ckpt('gone.safetensors')]))
    await trackWorkflows(f.env, ['w'])
    await committed(f, 'with a model')
    expect((await readManifest(f.env.pyproject)).tool.comfydock.models?.[model.hash]?.sources).toEqual(['http://127.0.0.1:9/gone.safetensors'])
    rmSync(join(f.ws.modelsDir, 'checkpoints', 'gone.safetensors'))
    await syncIndex(f.ws)
    const [w] = (await getWorkflowStatus(f.ws, f.env)).workflows
    expect(w.missing_models.map(m => m.download)).toEqual([{ url: 'http://127.0.0.1:9/gone.safetensors', relative_path: 'checkpoints/gone.safetensors' }])
    expect(w.fix).toBe('comfydock workflow resolve w --install')
  })

  it('reports a broken workflow file in its row and still lists the others', async () => {
    const f = await makeEnvFixture()
    f.saveWorkflow('good', wf([]))
    writeFileSync(`${f.env.userWorkflows}/broken.json`, 'not json')
    const s = await getWorkflowStatus(f.ws, f.env)
    expect(s.workflows.map(w => [w.name, w.error?.code])).toEqual([['broken', 'WORKFLOW_INVALID'], ['good', undefined]])
  })
})

describe('resolveWorkflow', () => {
  it('records the user\'s choice in pyproject so it is not asked again', async () => {
    const f = await makeEnvFixture()
    await f.addModels({ 'loras/a/style.safetensors': 'first', 'loras/b/style.safetensors': 'second' })
    f.saveWorkflow('w', wf([{ id: 1, type: 'LoraLoaderModelOnly', widgets_values: ['style.safetensors', 1] }]))
    await trackWorkflows(f.env, ['w'])
    const r = await resolveWorkflow(f.ws, f.env, 'w', { chooseModel: async (_m, c) => c.find(x => x.relative_path.startsWith('loras/b/')) })
    expect(r.models[0].relative_path).toBe('loras/b/style.safetensors')
    const again = await resolveWorkflow(f.ws, f.env, 'w', { yes: true })
    expect([again.models[0].status, again.models[0].match, again.models[0].relative_path]).toEqual(['resolved', 'context', 'loras/b/style.safetensors'])
    const doc = await readManifest(f.env.pyproject)
    expect(doc.tool.comfydock.models![again.models[0].hash!].relative_path).toBe('loras/b/style.safetensors')
  })
})

describe('setModelImportance', () => {
  it('keeps the user\'s level over the folder default in later commits', async () => {
    const f = await makeEnvFixture()
    f.saveWorkflow('w', wf([ckpt('sd15/x.safetensors')]))
    await trackWorkflows(f.env, ['w'])
    await prepareWorkflowCommit(f.ws, f.env, { allowIssues: true })
    await setModelImportance(f.env, 'w', 'x.safetensors', 'optional')
    const res = await prepareWorkflowCommit(f.ws, f.env)
    expect(res.issues).toEqual([])
    expect((await readManifest(f.env.pyproject)).tool.comfydock.workflows!.w.models![0].criticality).toBe('optional')
  })

  it('names the models a workflow has when the model is not one of them', async () => {
    const f = await makeEnvFixture()
    f.saveWorkflow('w', wf([ckpt('x.safetensors')]))
    await trackWorkflows(f.env, ['w'])
    const err = await setModelImportance(f.env, 'w', 'y.safetensors', 'optional').catch(e => e)
    expect([err.code, err.hint]).toEqual(['MODEL_NOT_FOUND', 'Its models: x.safetensors.'])
  })
})

describe('restoreWorkflow', () => {
  it('brings back the version of an earlier commit and returns its JSON', async () => {
    const f = await makeEnvFixture()
    f.saveWorkflow('w', wf([ckpt('v1.safetensors')]))
    await trackWorkflows(f.env, ['w'])
    const first = await committed(f, 'v1')
    f.saveWorkflow('w', wf([ckpt('v2.safetensors')]))
    await committed(f, 'v2')
    const r = await restoreWorkflow(f.ws, f.env, 'w', { ref: first! })
    expect(r.written).toBe(true)
    expect((r.workflow as any).nodes[0].widgets_values).toEqual(['v1.safetensors'])
    expect(JSON.parse(readFileSync(`${f.env.userWorkflows}/w.json`, 'utf8')).nodes[0].widgets_values).toEqual(['v1.safetensors'])
  })

  it('refuses to replace uncommitted changes unless told to', async () => {
    const f = await makeEnvFixture()
    f.saveWorkflow('w', wf([ckpt('v1.safetensors')]))
    await trackWorkflows(f.env, ['w'])
    await committed(f, 'v1')
    f.saveWorkflow('w', wf([ckpt('unsaved-work.safetensors')]))
    const err = await restoreWorkflow(f.ws, f.env, 'w').catch(e => e)
    expect(err.code).toBe('UNCOMMITTED_CHANGES')
    expect(readFileSync(`${f.env.userWorkflows}/w.json`, 'utf8')).toContain('unsaved-work')
    await restoreWorkflow(f.ws, f.env, 'w', { overwrite: true })
    expect(readFileSync(`${f.env.userWorkflows}/w.json`, 'utf8')).toContain('v1.safetensors')
  })

  it('replaces without asking a live copy that is an earlier committed version (restored before)', async () => {
    const f = await makeEnvFixture()
    f.saveWorkflow('w', wf([ckpt('v1.safetensors')]))
    await trackWorkflows(f.env, ['w'])
    const first = await committed(f, 'v1')
    f.saveWorkflow('w', wf([ckpt('v2.safetensors')]))
    const second = await committed(f, 'v2')
    await restoreWorkflow(f.ws, f.env, 'w', { ref: first! })
    const r = await restoreWorkflow(f.ws, f.env, 'w', { ref: second! })
    expect(r.written).toBe(true)
    expect(readFileSync(`${f.env.userWorkflows}/w.json`, 'utf8')).toContain('v2.safetensors')
  })

  it('says which ref is unknown', async () => {
    const f = await makeEnvFixture()
    f.saveWorkflow('w', wf([]))
    await trackWorkflows(f.env, ['w'])
    await committed(f, 'one')
    expect((await restoreWorkflow(f.ws, f.env, 'w', { ref: 'nope' }).catch(e => e)).message).toBe('no commit "nope" in environment "main"')
  })
})

describe('resolveWorkflow --install', () => {
  it('downloads a missing model from its declared URL into its folder, then resolves it', async () => {
    const { startFileServer } = await import('../support/file-server')
    const server = await startFileServer()
    try {
      const f = await makeEnvFixture()
      server.file('/files/new-model.safetensors', 'real model bytes '.repeat(8))
      const url = `${server.url}/files/new-model.safetensors`
      f.saveWorkflow('w', { ...wf([ckpt('sd15/new-model.safetensors')]), models: [{ name: 'new-model.safetensors', url, directory: 'checkpoints' }] })
      await trackWorkflows(f.env, ['w'])
      const r = await resolveWorkflow(f.ws, f.env, 'w', { install: true, yes: true })
      expect(r.failed).toEqual([])
      expect(r.installed.models).toEqual(['checkpoints/sd15/new-model.safetensors'])
      expect([r.models[0].status, r.models[0].relative_path]).toEqual(['resolved', 'checkpoints/sd15/new-model.safetensors'])
      expect(readFileSync(`${f.ws.modelsDir}/checkpoints/sd15/new-model.safetensors`, 'utf8')).toContain('real model bytes')
      const entry = (await readManifest(f.env.pyproject)).tool.comfydock.workflows!.w
      expect(entry.models![0].status).toBe('resolved')
      expect((await readManifest(f.env.pyproject)).tool.comfydock.models![entry.models![0].hash!].sources).toContain(url)
    } finally {
      await server.close()
    }
  })
})
