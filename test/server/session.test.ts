import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Dispatcher, Session, defaultMethods, startSidecar, type MethodTable, type RunningSidecar } from '../../sidecar/server'
import { connect, type TestClient } from './client'
import { makeEnvWorkspace } from './fixture'

/** Sends a 256 MiB body 64 KiB at a time, every 20 ms: a download that takes over a minute unless cancelled. */
async function startTrickleServer (): Promise<{ url: string, close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(256 * 1024 * 1024) })
    const timer = setInterval(() => res.write(Buffer.alloc(64 * 1024, 7)), 20)
    res.on('close', () => clearInterval(timer))
  })
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise(r => { server.closeAllConnections(); server.close(() => r()) }),
  }
}

const UI = { last_node_id: 1, last_link_id: 0, nodes: [{ id: 1, type: 'FancyNode', pos: [0, 0], size: [200, 80], flags: {}, order: 0, mode: 0, inputs: [], outputs: [], properties: {}, widgets_values: [] }], links: [], groups: [], config: {}, extra: {}, version: 0.4 }

describe('op.cancel: one request of a connection, not the connection', () => {
  let sidecar: RunningSidecar
  let client: TestClient
  let slow: Awaited<ReturnType<typeof startTrickleServer>>
  let env: Awaited<ReturnType<typeof makeEnvWorkspace>>

  beforeAll(async () => {
    env = await makeEnvWorkspace('demo')
    slow = await startTrickleServer()
    sidecar = await startSidecar({ workspaceRoot: env.root })
    client = await connect(sidecar.wsUrl, sidecar.token)
  })
  afterAll(async () => {
    await client?.close()
    await sidecar?.close()
    await slow?.close()
  })

  it('stops a running download, which answers CANCELLED, while the same connection keeps working', async () => {
    const download = client.call('models.download', { url: `${slow.url}/big.safetensors`, folder: 'checkpoints' })
    // wait until bytes flow: the cancel must stop a transfer in progress, not one not yet begun
    const started = Date.now()
    while (!client.events.some(e => e.event === 'progress' && e.progress.phase === 'progress' && (e.progress.current ?? 0) > 0)) {
      if (Date.now() - started > 10_000) throw new Error('no download progress')
      await new Promise(r => setTimeout(r, 20))
    }
    const requestId = client.events.find(e => e.event === 'progress')!
    const id = requestId.event === 'progress' ? requestId.request : ''
    const status = client.call('env.status', {})
    const cancel = await client.call('op.cancel', { request: id })
    expect(cancel).toMatchObject({ ok: true, result: { cancelled: true } })
    const answer = await download
    expect(answer).toMatchObject({ ok: false, error: { code: 'CANCELLED' } })
    expect(await status).toMatchObject({ ok: true })
    expect(client.ws.readyState).toBe(client.ws.OPEN)
    expect(await client.call('server.hello', {})).toMatchObject({ ok: true })
    expect(existsSync(join(env.ws.modelsDir, 'checkpoints', 'big.safetensors'))).toBe(false)
  })

  it('cannot cancel another connection\'s request', async () => {
    const other = await connect(sidecar.wsUrl, sidecar.token)
    try {
      const download = client.call('models.download', { url: `${slow.url}/other.safetensors`, folder: 'checkpoints' })
      await new Promise(r => setTimeout(r, 200))
      const running = client.events.filter(e => e.event === 'progress').at(-1)
      const id = running?.event === 'progress' ? running.request : ''
      expect(await other.call('op.cancel', { request: id })).toMatchObject({ ok: true, result: { cancelled: false } })
      expect(await client.call('op.cancel', { request: id })).toMatchObject({ ok: true, result: { cancelled: true } })
      expect(await download).toMatchObject({ ok: false, error: { code: 'CANCELLED' } })
    } finally {
      await other.close()
    }
  })

  it('says so when the request is not running', async () => {
    expect(await client.call('op.cancel', { request: 'never-sent' })).toMatchObject({ ok: true, result: { cancelled: false } })
  })
})

describe('op.cancel in the dispatcher', () => {
  it('drops a cancelled request waiting in the environment queue before it starts; the one running goes on', async () => {
    const { root } = await makeEnvWorkspace('demo')
    let release!: () => void
    const gate = new Promise<void>(r => { release = r })
    const started: string[] = []
    const methods: MethodTable = {
      ...defaultMethods(),
      'nodes.install': { scope: 'env', exclusive: true, run: async () => { started.push('install'); await gate; return { installed: ['x'], failed: [] } } },
      'workflows.restore': { scope: 'env', exclusive: true, run: async () => { started.push('restore'); return { name: 'x', ref: 'HEAD', json: {} } } },
    }
    const d = new Dispatcher({ workspaceRoot: root, methods, exportsDir: root, broadcast: () => {} })
    const session = new Session(() => {}, new AbortController().signal)
    const install = d.handle({ v: 2, id: '1', method: 'nodes.install', params: { specs: ['x'] } }, session)
    const restore = d.handle({ v: 2, id: '2', method: 'workflows.restore', params: { name: 'x' } }, session)
    await new Promise(r => setTimeout(r, 50))
    expect(await d.handle({ v: 2, id: '3', method: 'op.cancel', params: { request: '2' } }, session)).toMatchObject({ ok: true, result: { cancelled: true } })
    release()
    expect(await install).toMatchObject({ ok: true })
    expect(await restore).toMatchObject({ ok: false, error: { code: 'CANCELLED' } })
    expect(started).toEqual(['install'])
  })

  it('refuses a second request with the id of one still running', async () => {
    const { root } = await makeEnvWorkspace('demo')
    let release!: () => void
    const gate = new Promise<void>(r => { release = r })
    const methods: MethodTable = { ...defaultMethods(), 'nodes.install': { scope: 'env', exclusive: true, run: async () => { await gate; return { installed: [], failed: [] } } } }
    const d = new Dispatcher({ workspaceRoot: root, methods, exportsDir: root, broadcast: () => {} })
    const session = new Session(() => {}, new AbortController().signal)
    const first = d.handle({ v: 2, id: 'same', method: 'nodes.install', params: { specs: ['x'] } }, session)
    expect(await d.handle({ v: 2, id: 'same', method: 'server.hello', params: {} }, session)).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } })
    release()
    expect(await first).toMatchObject({ ok: true })
  })
})

describe('session.context: what the page\'s ComfyUI has, sent once', () => {
  let sidecar: RunningSidecar
  let env: Awaited<ReturnType<typeof makeEnvWorkspace>>
  const objectInfo = { FancyNode: { input: { required: {} }, input_order: { required: [] }, output: [], output_name: [], python_module: 'custom_nodes.fancy-pack' } }

  beforeAll(async () => {
    env = await makeEnvWorkspace('demo')
    // the pack ComfyUI loaded FancyNode from is the environment's own
    await mkdir(join(env.ws.env('demo').customNodes, 'fancy-pack'), { recursive: true })
    sidecar = await startSidecar({ workspaceRoot: env.root })
  })
  afterAll(async () => { await sidecar?.close() })

  const analyzeFancy = async (c: TestClient) => {
    const res = await c.call('workflows.analyze', { workflows: [{ name: 'fancy', json: UI }] })
    if (!res.ok) throw new Error(res.error.message)
    return (res.result as any[])[0]
  }

  it('analyses against the connection\'s context; another connection names a part it holds by hash alone', async () => {
    const a = await connect(sidecar.wsUrl, sidecar.token)
    const b = await connect(sidecar.wsUrl, sidecar.token)
    try {
      expect(await b.call('session.context', { objectInfo: { hash: 'oi-1' } })).toMatchObject({ ok: true, result: { missing: ['objectInfo'] } })
      expect(await a.call('session.context', { objectInfo: { hash: 'oi-1', value: objectInfo } })).toMatchObject({ ok: true, result: { missing: [] } })
      // object_info says the type is there: nothing is missing
      expect(JSON.stringify(await analyzeFancy(a))).not.toContain('FancyNode"')
      expect(await b.call('session.context', { objectInfo: { hash: 'oi-1' } })).toMatchObject({ ok: true, result: { missing: [] } })
      expect(JSON.stringify(await analyzeFancy(b))).toEqual(JSON.stringify(await analyzeFancy(a)))
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('a workflow analysis no longer carries object_info', async () => {
    const c = await connect(sidecar.wsUrl, sidecar.token)
    try {
      const res = await c.call('workflows.analyze', { workflows: [{ name: 'fancy', json: UI }], objectInfo: { hash: 'x', value: objectInfo } })
      expect(res).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } })
    } finally {
      await c.close()
    }
  })
})
