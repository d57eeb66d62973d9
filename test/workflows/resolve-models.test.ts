import { describe, expect, it } from 'vitest'
import { analyzeWorkflow, resolveAnalysis } from '../../sidecar/workflows'
import { makeEnvFixture } from './env-fixture'

const loader = (type: string, value: string, extra: Record<string, unknown> = {}) => ({ id: 1, type, widgets_values: [value], ...extra })
const one = (node: unknown, extra: Record<string, unknown> = {}) => analyzeWorkflow({ nodes: [node], ...extra })

describe('model resolution order', () => {
  it('takes the exact relative path in its folder over a same-named file elsewhere', async () => {
    const f = await makeEnvFixture()
    await f.addModels({ 'checkpoints/sd15/x.safetensors': 'one', 'checkpoints/sdxl/x.safetensors': 'two' })
    const r = await resolveAnalysis(f.ws, f.env, 'w', one(loader('CheckpointLoaderSimple', 'sdxl/x.safetensors')))
    expect([r.models[0].status, r.models[0].match, r.models[0].relative_path]).toEqual(['resolved', 'path', 'checkpoints/sdxl/x.safetensors'])
  })

  it('normalises Windows backslashes in the widget value', async () => {
    const f = await makeEnvFixture()
    await f.addModels({ 'loras/sdxl/offset.safetensors': 'lora' })
    const r = await resolveAnalysis(f.ws, f.env, 'w', one(loader('LoraLoaderModelOnly', 'sdxl\\offset.safetensors')))
    expect([r.models[0].match, r.models[0].relative_path]).toEqual(['path', 'loras/sdxl/offset.safetensors'])
  })

  it('finds text encoders in the legacy clip folder (folder-aware)', async () => {
    const f = await makeEnvFixture()
    await f.addModels({ 'clip/t5/t5xxl_fp16.safetensors': 't5' })
    const r = await resolveAnalysis(f.ws, f.env, 'w', one(loader('CLIPLoader', 't5/t5xxl_fp16.safetensors')))
    expect([r.models[0].match, r.models[0].relative_path]).toEqual(['path', 'clip/t5/t5xxl_fp16.safetensors'])
  })

  it('finds a file moved to another subfolder of the same folder', async () => {
    const f = await makeEnvFixture()
    await f.addModels({ 'vae/sdxl/sdxl_vae.safetensors': 'vae' })
    const r = await resolveAnalysis(f.ws, f.env, 'w', one(loader('VAELoader', 'sdxl_vae.safetensors')))
    expect([r.models[0].match, r.models[0].relative_path]).toEqual(['folder', 'vae/sdxl/sdxl_vae.safetensors'])
  })

  it('falls back to the file name anywhere (a custom node with no known folder)', async () => {
    const f = await makeEnvFixture()
    await f.addModels({ 'ultralytics/bbox/face_yolov8m.pt': 'yolo' })
    const r = await resolveAnalysis(f.ws, f.env, 'w', one(loader('UltralyticsDetectorProvider', 'bbox/face_yolov8m.pt', { properties: { cnr_id: 'comfyui-impact-subpack' } })))
    expect([r.models[0].match, r.models[0].relative_path]).toEqual(['filename', 'ultralytics/bbox/face_yolov8m.pt'])
  })

  it('uses a declared hash first', async () => {
    const f = await makeEnvFixture()
    await f.addModels({ 'checkpoints/renamed.safetensors': 'content-a', 'checkpoints/decl.safetensors': 'content-b' })
    const { ModelIndex } = await import('../../sidecar/models')
    const idx = ModelIndex.open(f.ws)
    const target = idx.findByPath('checkpoints/renamed.safetensors')[0].hash
    idx.close()
    const a = one(loader('CheckpointLoaderSimple', 'decl.safetensors', { properties: { models: [{ name: 'decl.safetensors', directory: 'checkpoints', hash: target }] } }))
    const r = await resolveAnalysis(f.ws, f.env, 'w', a)
    expect([r.models[0].match, r.models[0].relative_path]).toEqual(['hash', 'checkpoints/renamed.safetensors'])
  })
})

describe('ambiguity', () => {
  async function twoCandidates () {
    const f = await makeEnvFixture()
    await f.addModels({ 'loras/a/style.safetensors': 'first', 'loras/b/style.safetensors': 'second' })
    return { f, a: one(loader('LoraLoaderModelOnly', 'style.safetensors')) }
  }

  it('never picks one of several files with --yes, and says so', async () => {
    const { f, a } = await twoCandidates()
    const r = await resolveAnalysis(f.ws, f.env, 'w', a, { yes: true })
    expect(r.models[0].status).toBe('ambiguous')
    expect(r.models[0].candidates!.map(c => c.relative_path).sort()).toEqual(['loras/a/style.safetensors', 'loras/b/style.safetensors'])
    expect(r.notes).toEqual(['loras/style.safetensors: 2 files match; left unresolved (--yes never picks a model)'])
    expect(r.issues.map(i => i.fix)).toEqual(['comfydock workflow resolve w'])
  })

  it('asks the chooser with path and size, and keeps the choice', async () => {
    const { f, a } = await twoCandidates()
    const asked: Array<{ relative_path: string, size: number }> = []
    const r = await resolveAnalysis(f.ws, f.env, 'w', a, {
      chooseModel: async (_m, c) => { asked.push(...c); return c.find(x => x.relative_path.startsWith('loras/b/')) },
    })
    expect(asked.every(c => c.size === 64)).toBe(true)
    expect([r.models[0].status, r.models[0].match, r.models[0].relative_path]).toEqual(['resolved', 'chosen', 'loras/b/style.safetensors'])
  })

  it('treats the same bytes in two places as one file', async () => {
    const f = await makeEnvFixture()
    await f.addModels({ 'loras/a/same.safetensors': 'bytes', 'loras/b/same.safetensors': 'bytes' })
    const r = await resolveAnalysis(f.ws, f.env, 'w', one(loader('LoraLoaderModelOnly', 'same.safetensors')))
    expect(r.models[0].status).toBe('resolved')
  })
})

describe('node types', () => {
  it('marks core types and resolves custom ones from the workflow\'s cnr_id, flagging packs not installed', async () => {
    const f = await makeEnvFixture()
    const a = analyzeWorkflow({ nodes: [{ id: 1, type: 'KSampler' }, { id: 2, type: 'FaceDetailer', properties: { cnr_id: 'comfyui-impact-pack', ver: '8.8.1' } }] })
    const r = await resolveAnalysis(f.ws, f.env, 'w', a)
    expect(r.nodes).toEqual([
      { type: 'FaceDetailer', status: 'resolved', pack: 'comfyui-impact-pack', version: '8.8.1', installed: false },
      { type: 'KSampler', status: 'core' },
    ])
    expect(r.issues.map(i => i.fix)).toEqual(['comfydock node add comfyui-impact-pack'])
  })

  it('leaves a type no source knows unresolved', async () => {
    const f = await makeEnvFixture()
    const r = await resolveAnalysis(f.ws, f.env, 'w', analyzeWorkflow({ nodes: [{ id: 1, type: 'TotallyUnknownNode' }] }), { network: false })
    expect(r.nodes).toEqual([{ type: 'TotallyUnknownNode', status: 'unresolved', candidates: [] }])
    expect(r.issues[0].kind).toBe('node')
  })
})

describe('subfolder hints', () => {
  it('picks the file whose path ends with the widget\'s subfolder path among same-named files', async () => {
    const f = await makeEnvFixture()
    await f.addModels({ 'ultralytics/bbox/face_yolov8m.pt': 'bbox', 'ultralytics/segm/face_yolov8m.pt': 'segm' })
    const r = await resolveAnalysis(f.ws, f.env, 'w', one(loader('UltralyticsDetectorProvider', 'segm/face_yolov8m.pt', { properties: { cnr_id: 'comfyui-impact-subpack' } })))
    expect([r.models[0].status, r.models[0].relative_path]).toEqual(['resolved', 'ultralytics/segm/face_yolov8m.pt'])
  })
})
