/**
 * The team's model store against a real S3-compatible server (SeaweedFS on loopback, SigV4 auth):
 * uploads by content, dedup, multipart, fetch-first with resume after a dropped connection, a corrupted
 * object refused by its hash, and wrong credentials named as such.
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { downloadModelNeeds, type ModelNeed } from '../../sidecar/env'
import { MODEL_SETTINGS, ModelIndex, pushModels, shortHash, syncIndex, type IndexedModel } from '../../sidecar/models'
import { Workspace } from '../../sidecar/workspace'
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy'
import { startFileServer, type FileServer } from '../support/file-server'
import { S3_KEYS, startS3Server, type S3Server } from '../support/s3-server'
import { makeTempDir } from '../support/temp-dir'
import { rejection } from './expect-error'

const bytes = (n: number, seed: number): Buffer => {
  const b = Buffer.allocUnsafe(n)
  for (let i = 0; i < n; i++) b[i] = (i * seed + (i >> 13)) & 0xff
  return b
}
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

let s3: S3Server
let proxy: FaultProxy
let files: FileServer
const root = makeTempDir('store')

async function workspace (name: string, endpoint: string, keys = S3_KEYS): Promise<Workspace> {
  const { workspace: ws } = await Workspace.init(join(root, name))
  await ws.setConfig('model_store', 's3://team/models', MODEL_SETTINGS)
  await ws.setConfig('s3_endpoint', endpoint, MODEL_SETTINGS)
  await ws.setConfig('s3_access_key_id', keys.accessKeyId, MODEL_SETTINGS)
  await ws.setConfig('s3_secret_access_key', keys.secretAccessKey, MODEL_SETTINGS)
  return ws
}

async function addModel (ws: Workspace, rel: string, data: Buffer): Promise<IndexedModel> {
  mkdirSync(join(ws.modelsDir, rel, '..'), { recursive: true })
  writeFileSync(join(ws.modelsDir, rel), data)
  await syncIndex(ws)
  const index = ModelIndex.open(ws)
  try { return index.findByPath(rel)[0] } finally { index.close() }
}

const need = (rel: string, data: Buffer, hash: string, sources: string[] = []): ModelNeed => ({
  key: hash, hash, sha256: sha(data), filename: rel.split('/').pop()!, relativePath: rel, category: rel.split('/')[0],
  size: data.length, criticality: 'required', workflows: [], sources, present: false,
})

beforeAll(async () => {
  s3 = await startS3Server(join(root, 's3'))
  await s3.createBucket('team')
  proxy = await startFaultProxy(s3.endpoint)
  files = await startFileServer()
}, 120_000)
afterAll(async () => { await proxy?.close(); await files?.close(); await s3?.stop() })

describe('the team model store on a real S3-compatible server', () => {
  const small = bytes(300_000, 7)
  const big = bytes(12 * 1024 * 1024 + 12345, 13) // three parts of 5 MiB

  it('uploads models keyed by their SHA-256 (large ones in parts), and skips what the store already has', async () => {
    const ws = await workspace('ws-up', s3.endpoint)
    const a = await addModel(ws, 'loras/small.safetensors', small)
    const b = await addModel(ws, 'checkpoints/big.safetensors', big)
    const first = await pushModels(ws, [a, b], { partSize: 5 * 1024 * 1024 })
    expect(first.failed).toEqual([])
    expect(first.uploaded.map(m => m.filename).sort()).toEqual(['big.safetensors', 'small.safetensors'])
    expect(await s3.headRaw('team', `models/${sha(small)}`)).toBe(small.length)
    expect(await s3.headRaw('team', `models/${sha(big)}`)).toBe(big.length)
    const index = ModelIndex.open(ws)
    try {
      expect(index.get(a.hash)!.sources).toContainEqual({ type: 'store', url: `s3://team/models/${sha(small)}` })
    } finally { index.close() }

    // Another machine with the same file: nothing is sent again.
    const other = await workspace('ws-up2', proxy.url)
    const again = await addModel(other, 'loras/copy.safetensors', small)
    const before = proxy.requests.length
    const second = await pushModels(other, [again])
    expect(second.uploaded).toEqual([])
    expect(second.present.map(m => m.sha256)).toEqual([sha(small)])
    expect(proxy.requests.slice(before).filter(r => r.method === 'PUT' || r.method === 'POST')).toEqual([])
  })

  it('fetches from the store first, resumes after a dropped connection, and verifies the bytes', async () => {
    const ws = await workspace('ws-down', proxy.url)
    const hash = await shortHash(join(root, 'ws-up', 'models', 'checkpoints', 'big.safetensors'))
    files.file('/public/big.safetensors', big)
    proxy.dropNext({ method: 'GET', pathIncludes: sha(big) }, 3 * 1024 * 1024)
    const before = files.requests.length
    const { markPresentModels } = await import('../../sidecar/env')
    const needs = await markPresentModels(ws, [need('checkpoints/big.safetensors', big, hash, [`${files.url}/public/big.safetensors`])])
    expect(needs[0].sources[0]).toBe(`s3://team/models/${sha(big)}`)
    const out = await downloadModelNeeds(ws, needs)
    expect(out.failed).toEqual([])
    expect(readFileSync(join(ws.modelsDir, 'checkpoints/big.safetensors')).equals(big)).toBe(true)
    expect(files.requests.length).toBe(before) // the public host was never asked
    const gets = proxy.requests.filter(r => r.method === 'GET' && r.path.includes(sha(big)))
    expect(gets.length).toBeGreaterThanOrEqual(2)
    expect(gets.at(-1)!.range).toMatch(/^bytes=[1-9]\d*-$/) // the second request resumed
  })

  it('refuses a corrupted object by its hash and falls back to the public source', async () => {
    const data = bytes(200_000, 29)
    await s3.putRaw('team', `models/${sha(data)}`, bytes(200_000, 31)) // wrong bytes under the key
    files.file('/public/good.safetensors', data)
    const ws = await workspace('ws-corrupt', s3.endpoint)
    const src = join(root, 'good.safetensors')
    writeFileSync(src, data)
    const hash = await shortHash(src)
    const alone = await downloadModelNeeds(ws, [need('vae/good.safetensors', data, hash, [`s3://team/models/${sha(data)}`])])
    expect(alone.failed[0].error.code).toBe('MODEL_HASH_MISMATCH')
    expect(alone.failed[0].error.message).toContain(sha(data))
    const out = await downloadModelNeeds(ws, [need('vae/good.safetensors', data, hash, [`s3://team/models/${sha(data)}`, `${files.url}/public/good.safetensors`])])
    expect(out.failed).toEqual([])
    expect(readFileSync(join(ws.modelsDir, 'vae/good.safetensors')).equals(data)).toBe(true)
  })

  it('wrong credentials are named as such, with the settings that fix them', async () => {
    const ws = await workspace('ws-wrong', s3.endpoint, { ...S3_KEYS, secretAccessKey: 'not-the-secret' })
    const m = await addModel(ws, 'loras/w.safetensors', bytes(1000, 3))
    const err = await rejection(pushModels(ws, [m]))
    expect(err.code).toBe('MODEL_STORE_AUTH_FAILED')
    expect(err.message).toContain('SignatureDoesNotMatch')
    expect(err.hint).toContain('comfydock config s3_secret_access_key')
    const down = await downloadModelNeeds(ws, [need('loras/x.safetensors', small, 'ffffffffffffffff', [`s3://team/models/${sha(small)}`])])
    expect(down.failed[0].error.code).toBe('DOWNLOAD_AUTH_REQUIRED')
    expect(down.failed[0].error.hint).toContain('s3_access_key_id')

  })

  it('runs model_transfers downloads at once, however many models are missing', async () => {
    const bodies = new Map(Array.from({ length: 5 }, (_, i) => [`/m${i}.safetensors`, bytes(50_000, 50 + i)]))
    let active = 0
    let peak = 0
    const slow = createServer((req, res) => {
      const body = bodies.get(req.url ?? '')
      if (!body) { res.writeHead(404).end(); return }
      active++
      peak = Math.max(peak, active)
      // each answer takes a while, so transfers that may overlap do
      setTimeout(() => { res.writeHead(200, { 'content-length': body.length }); res.end(body, () => { active-- }) }, 150)
    })
    await new Promise<void>(resolve => slow.listen(0, '127.0.0.1', resolve))
    const base = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`
    try {
      for (const limit of [2, 1]) {
        const { workspace: ws } = await Workspace.init(join(root, `ws-limit-${limit}`))
        await ws.setConfig('model_transfers', String(limit), MODEL_SETTINGS)
        peak = 0
        const needs = [...bodies].map(([path, data]) => need(`loras/${limit}${path}`, data, `${limit}${path}`, [`${base}${path}`]))
        const out = await downloadModelNeeds(ws, needs.map(n => ({ ...n, hash: undefined, key: n.relativePath! })))
        expect(out.failed).toEqual([])
        expect(out.downloaded).toHaveLength(5)
        expect(peak).toBe(limit)
      }
    } finally {
      await new Promise<void>(resolve => { slow.closeAllConnections(); slow.close(() => resolve()) })
    }
  })

  it('takes keys from the usual AWS_* variables when comfydock has none', async () => {
    const { workspace: ws } = await Workspace.init(join(root, 'ws-env'))
    await ws.setConfig('model_store', 's3://team/models', MODEL_SETTINGS)
    const m = await addModel(ws, 'loras/envkeys.safetensors', bytes(5000, 41))
    const env = { ...process.env }
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: S3_KEYS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3_KEYS.secretAccessKey, AWS_ENDPOINT_URL: s3.endpoint, AWS_REGION: 'us-east-1' })
    try {
      const out = await pushModels(ws, [m])
      expect(out.uploaded).toHaveLength(1)
    } finally {
      for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_ENDPOINT_URL', 'AWS_REGION']) if (env[k] === undefined) delete process.env[k]; else process.env[k] = env[k]
    }
  })
})
