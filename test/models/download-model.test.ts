import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ComfydockError } from '../../sidecar/errors'
import { downloadModel, downloadModels, findModelSource, MODEL_SETTINGS, ModelIndex, shortHash, syncIndex } from '../../sidecar/models'
import type { ProgressEvent } from '../../sidecar/protocol'
import { Workspace } from '../../sidecar/workspace'
import { startFileServer, type FileServer } from '../support/file-server'
import { makeTempDir } from '../support/temp-dir'
import { rejection } from './expect-error'

const bytes = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * seed + 11) & 0xff))


describe('downloadModel', () => {
  let hf: FileServer
  let civ: FileServer
  let cdn: FileServer
  let ws: Workspace
  beforeAll(async () => {
    hf = await startFileServer(); civ = await startFileServer(); cdn = await startFileServer()
    ws = (await Workspace.init(join(makeTempDir('dm'), 'ws'))).workspace
    await ws.setConfig('huggingface_url', hf.url, MODEL_SETTINGS)
    await ws.setConfig('civitai_url', civ.url, MODEL_SETTINGS)
    await ws.setConfig('hf_token', 'hf_test_token_123', MODEL_SETTINGS)
    await ws.setConfig('civitai_token', 'civ_test_token_456', MODEL_SETTINGS)
  })
  afterAll(async () => { await hf.close(); await civ.close(); await cdn.close() })

  it('downloads a Hugging Face file into its folder, indexes it with full hashes and records the source', async () => {
    const data = bytes(300_000, 3)
    const url = hf.huggingface('org/sd', 'main', 'unet/model.safetensors', data, { cdn })
    const m = await downloadModel(ws, { url, folder: 'checkpoints' })
    expect(m.relPath).toBe('checkpoints/model.safetensors')
    expect(readFileSync(join(ws.modelsDir, 'checkpoints/model.safetensors')).equals(data)).toBe(true)
    expect(m.hash).toBe(await shortHash(join(ws.modelsDir, 'checkpoints/model.safetensors')))
    expect(m.sha256).toBe(createHash('sha256').update(data).digest('hex'))
    expect(m.blake3).toMatch(/^[0-9a-f]{64}$/)
    expect(m.sources).toEqual([{ type: 'huggingface', url }])
    expect(hf.requests.at(-1)?.headers.authorization).toBe('Bearer hf_test_token_123')
    expect(cdn.requests.every(r => !r.headers.authorization)).toBe(true)
    expect(readdirSync(join(ws.modelsDir, 'checkpoints'))).toEqual(['model.safetensors'])
  })

  it('verifies a Hugging Face file against the SHA-256 its resolve URL announces', async () => {
    const url = hf.huggingface('org/bad', 'main', 'bad.safetensors', bytes(10_000, 29), { cdn, etag: 'a'.repeat(64) })
    const err = await rejection(downloadModel(ws, { url, folder: 'vae' }))
    expect(err.code).toBe('MODEL_HASH_MISMATCH')
    expect(err.message).toContain('a'.repeat(64))
    expect(readdirSync(join(ws.modelsDir)).includes('vae') ? readdirSync(join(ws.modelsDir, 'vae')) : []).toEqual([])
  })

  it('does not fetch a URL again once its file is in the index', async () => {
    const url = `${hf.url}/org/sd/blob/main/unet/model.safetensors`
    const before = hf.requests.length + cdn.requests.length
    const m = await downloadModel(ws, { url, folder: 'checkpoints' })
    expect(m.downloaded).toBe(false)
    expect(hf.requests.length + cdn.requests.length).toBe(before)
  })

  it('records a new source instead of downloading content that is already here (same announced SHA-256)', async () => {
    const data = bytes(300_000, 3) // the bytes of checkpoints/model.safetensors above
    const url = hf.huggingface('mirror/sd', 'v2', 'copy.safetensors', data, { cdn })
    const before = cdn.requests.length
    const m = await downloadModel(ws, { url, folder: 'checkpoints' })
    expect(m.downloaded).toBe(false)
    expect(m.relPath).toBe('checkpoints/model.safetensors')
    expect(m.sources.map(s => s.url)).toContain(url)
    expect(cdn.requests.length).toBe(before)
  })

  it('takes the folder and file name from CivitAI and sends the CivitAI token only to CivitAI', async () => {
    const data = bytes(200_000, 5)
    const url = civ.civitai(777, 'detail_tweaker.safetensors', data, { token: 'civ_test_token_456', cdn })
    const m = await downloadModel(ws, { url })
    expect(m.relPath).toBe('loras/detail_tweaker.safetensors')
    expect(m.sources).toEqual([{ type: 'civitai', url: `${civ.url}/api/download/models/777`, unverified: true }]) // the stand-in publishes no hash for it
    expect(civ.requests.filter(r => r.path === '/api/download/models/777').every(r => r.headers.authorization === 'Bearer civ_test_token_456')).toBe(true)
    expect(cdn.requests.every(r => !r.headers.authorization)).toBe(true)
    expect(hf.requests.every(r => r.headers.authorization !== 'Bearer civ_test_token_456')).toBe(true)
  })

  it('understands a CivitAI model page URL with a version id', async () => {
    civ.civitai(888, 'page_model.safetensors', bytes(50_000, 7), { meta: { model: { name: 'x', type: 'Checkpoint' } } })
    const m = await downloadModel(ws, { url: `${civ.url}/models/88/some-slug?modelVersionId=888` })
    expect(m.relPath).toBe('checkpoints/page_model.safetensors')
  })

  it('takes the newest version (CivitAI lists it first) from a model page URL without a version id', async () => {
    const data = bytes(40_000, 13)
    civ.civitai(991, 'newest.safetensors', data, { meta: { model: { name: 'y', type: 'TextualInversion' } } })
    civ.civitai(990, 'older.safetensors', bytes(40_000, 17))
    civ.json('/api/v1/models/99', { id: 99, name: 'y', type: 'TextualInversion', modelVersions: [{ id: 991, name: 'v2' }, { id: 990, name: 'v1' }] })
    const m = await downloadModel(ws, { url: `${civ.url}/models/99/some-embedding` })
    expect(m.relPath).toBe('embeddings/newest.safetensors')
    expect(readFileSync(join(ws.modelsDir, 'embeddings/newest.safetensors')).equals(data)).toBe(true)
    expect(m.sources).toEqual([{ type: 'civitai', url: `${civ.url}/api/download/models/991`, unverified: true }])
  })

  it('says which URL to pass when a CivitAI model page has no downloadable version', async () => {
    civ.json('/api/v1/models/98', { id: 98, name: 'gone', modelVersions: [] })
    const err = await rejection(downloadModel(ws, { url: `${civ.url}/models/98` }))
    expect(err.code).toBe('MODEL_NOT_FOUND')
    expect(err.hint).toContain('modelVersionId')
  })

  it('asks for a category when a direct URL does not say where the model goes', async () => {
    cdn.file('/files/mystery.safetensors', bytes(1000, 9))
    const err = await rejection(downloadModel(ws, { url: `${cdn.url}/files/mystery.safetensors` }))
    expect(err.code).toBe('INVALID_ARGUMENT')
    expect(err.hint).toContain('--category')
    const m = await downloadModel(ws, { url: `${cdn.url}/files/mystery.safetensors`, relPath: 'vae/sub/renamed.safetensors' })
    expect(m.relPath).toBe('vae/sub/renamed.safetensors')
    expect(m.sources[0].type).toBe('url')
  })

  it('asks the caller for a folder when the URL does not say, and uses the answer', async () => {
    cdn.file('/files/asked.safetensors', bytes(1500, 31))
    const asked: string[] = []
    const m = await downloadModel(ws, { url: `${cdn.url}/files/asked.safetensors` }, {
      chooseFolder: async (name, folders) => { asked.push(name); expect(folders).toContain('loras'); return 'diffusion_models' },
    })
    expect(asked).toEqual(['asked.safetensors'])
    expect(m.relPath).toBe('diffusion_models/asked.safetensors')
  })

  it('discards a download that does not match the expected hash', async () => {
    cdn.file('/files/wrong.safetensors', bytes(2000, 13))
    const err = await rejection(downloadModel(ws, { url: `${cdn.url}/files/wrong.safetensors`, folder: 'loras', expectedHash: '0123456789abcdef' }))
    expect(err.code).toBe('MODEL_HASH_MISMATCH')
    expect(readdirSync(join(ws.modelsDir, 'loras')).filter(f => f.includes('wrong'))).toEqual([])
  })

  it('never overwrites a file already at the target path', async () => {
    mkdirSync(join(ws.modelsDir, 'upscale_models'), { recursive: true })
    writeFileSync(join(ws.modelsDir, 'upscale_models/mine.pth'), 'my own upscaler')
    cdn.file('/files/mine.pth', bytes(3000, 17))
    const err = await rejection(downloadModel(ws, { url: `${cdn.url}/files/mine.pth`, folder: 'upscale_models' }))
    expect(err.message).toContain('already exists')
    expect(readFileSync(join(ws.modelsDir, 'upscale_models/mine.pth'), 'utf8')).toBe('my own upscaler')
  })

  it('downloads several models in parallel with one progress task per file', async () => {
    const urls = [1, 2, 3].map(i => { cdn.file(`/par/p${i}.safetensors`, bytes(400_000 + i, 19 + i)); return `${cdn.url}/par/p${i}.safetensors` })
    const events: ProgressEvent[] = []
    const out = await downloadModels(ws, [...urls.map(url => ({ url, folder: 'embeddings' })), { url: `${cdn.url}/par/missing.safetensors`, folder: 'embeddings' }], { onProgress: e => events.push(e), backoffMs: 1 })
    expect(out.filter(o => o.model).map(o => o.model!.relPath).sort()).toEqual(['embeddings/p1.safetensors', 'embeddings/p2.safetensors', 'embeddings/p3.safetensors'])
    expect((out[3].error as ComfydockError).code).toBe('DOWNLOAD_FAILED')
    const parent = events.find(e => e.phase === 'start' && e.label.startsWith('download 4'))!.op
    const fileOps = new Set(events.filter(e => e.parent === parent && e.unit === 'bytes').map(e => e.op))
    expect(fileOps.size).toBe(4)
  })

  it('finds a local model on CivitAI by its SHA-256 and records the source', async () => {
    const data = bytes(5000, 23)
    mkdirSync(join(ws.modelsDir, 'controlnet'), { recursive: true })
    writeFileSync(join(ws.modelsDir, 'controlnet/canny.safetensors'), data)
    await syncIndex(ws)
    const sha = createHash('sha256').update(data).digest('hex')
    civ.json(`/api/v1/model-versions/by-hash/${sha}`, { id: 4321, modelId: 99, name: 'v2', model: { name: 'Canny', type: 'Controlnet' }, files: [{ name: 'canny.safetensors', primary: true }] })
    const idx = ModelIndex.open(ws)
    const model = idx.findByFilename('canny.safetensors')[0]
    idx.close()
    const r = await findModelSource(ws, model)
    expect(r.found).toEqual([{ type: 'civitai', url: `${civ.url}/api/download/models/4321` }])
    expect(r.model.sha256).toBe(sha)
    expect(r.name).toBe('Canny / v2')
    expect(existsSync(join(ws.modelsDir, 'controlnet/canny.safetensors'))).toBe(true)
  })
})
