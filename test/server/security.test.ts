import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSidecar, startSidecar, type RunningSidecar } from '../../sidecar/server'
import { connect, handshakeStatus } from './client'
import { makeEnvWorkspace } from './fixture'

const ORIGIN = 'http://127.0.0.1:8188'
const PORT = 45_123

describe('HTTP security (app.request)', () => {
  let root: string
  let sidecar: ReturnType<typeof createSidecar>
  const hello = JSON.stringify({ v: 2, id: '1', method: 'server.hello', params: {} })

  beforeAll(async () => {
    ({ root } = await makeEnvWorkspace())
    sidecar = createSidecar({ workspaceRoot: root, origins: [ORIGIN], token: 'secret-token-1234567890', port: PORT })
  })

  const req = (path: string, headers: Record<string, string>, init: RequestInit = {}) =>
    sidecar.app.request(`http://127.0.0.1:${PORT}${path}`, { ...init, headers: { host: `127.0.0.1:${PORT}`, ...headers } })

  it('answers a request carrying the right bearer token', async () => {
    const res = await req('/rpc', { authorization: 'Bearer secret-token-1234567890' }, { method: 'POST', body: hello })
    expect(res.status).toBe(200)
    const body = await res.json() as any
    expect(body.ok).toBe(true)
    expect(body.result.methods).toContain('env.status')
  })

  it('POST /rpc: a malformed request is 400, an unknown method 404, a failed operation a 200 error answer', async () => {
    const auth = { authorization: 'Bearer secret-token-1234567890' }
    const post = (body: string) => req('/rpc', auth, { method: 'POST', body })
    expect((await post('{not json')).status).toBe(400)
    expect((await post(JSON.stringify({ v: 2, id: '1', method: 'env.log', params: { limit: 'x' } }))).status).toBe(400)
    expect((await post(JSON.stringify({ v: 2, id: '1', method: 'no.such' }))).status).toBe(404)
    const failed = await post(JSON.stringify({ v: 2, id: '9', method: 'env.status', params: { env: 'missing' } }))
    expect(failed.status).toBe(200)
    expect(await failed.json()).toMatchObject({ id: '9', ok: false, error: { code: 'ENV_NOT_FOUND' } })
  })

  it('refuses a request without a token with 401 UNAUTHORIZED', async () => {
    const res = await req('/rpc', {}, { method: 'POST', body: hello })
    expect(res.status).toBe(401)
    expect(((await res.json()) as any).error.code).toBe('UNAUTHORIZED')
  })

  it('refuses a wrong token with 401', async () => {
    const res = await req('/rpc', { authorization: 'Bearer not-the-token' }, { method: 'POST', body: hello })
    expect(res.status).toBe(401)
  })

  it('does not accept the token as a query parameter on /rpc', async () => {
    const res = await req('/rpc?token=secret-token-1234567890', {}, { method: 'POST', body: hello })
    expect(res.status).toBe(401)
  })

  it('refuses a foreign Origin even with the token', async () => {
    const res = await req('/rpc', { authorization: 'Bearer secret-token-1234567890', origin: 'http://evil.example' }, { method: 'POST', body: hello })
    expect(res.status).toBe(403)
    expect(((await res.json()) as any).error.code).toBe('FORBIDDEN_ORIGIN')
  })

  it('accepts the ComfyUI origin under its loopback aliases (localhost, [::1]), and no other host', async () => {
    for (const origin of ['http://localhost:8188', 'http://[::1]:8188']) {
      const res = await req('/health', { authorization: 'Bearer secret-token-1234567890', origin })
      expect(res.status, origin).toBe(200)
    }
    const other = await req('/health', { authorization: 'Bearer secret-token-1234567890', origin: 'http://127.0.0.2:8188' })
    expect(other.status).toBe(403)
  })

  it('refuses a rebinding Host header (evil name resolving to 127.0.0.1)', async () => {
    const res = await req('/health', { authorization: 'Bearer secret-token-1234567890', host: `evil.example:${PORT}` })
    expect(res.status).toBe(403)
    expect(((await res.json()) as any).error.code).toBe('FORBIDDEN_HOST')
  })

  it('refuses a Host with the wrong port', async () => {
    const res = await req('/health', { authorization: 'Bearer secret-token-1234567890', host: '127.0.0.1:1' })
    expect(res.status).toBe(403)
  })

  it('serves an export download only with the token', async () => {
    await mkdir(sidecar.exportsDir, { recursive: true })
    await writeFile(join(sidecar.exportsDir, 'demo_export.tar.gz'), 'bundle-bytes')
    expect((await req('/downloads/demo_export.tar.gz', {})).status).toBe(401)
    const ok = await req('/downloads/demo_export.tar.gz?token=secret-token-1234567890', {})
    expect(ok.status).toBe(200)
    expect(ok.headers.get('content-disposition')).toContain('demo_export.tar.gz')
    expect(await ok.text()).toBe('bundle-bytes')
  })

  it('refuses download paths escaping the exports folder', async () => {
    await writeFile(join(root, '.metadata', 'secret.txt'), 'do not leak')
    for (const path of ['/downloads/..%2F.metadata%2Fsecret.txt', '/downloads/%2Fetc%2Fpasswd', '/downloads/..%5C.metadata%5Csecret.txt']) {
      const res = await req(`${path}?token=secret-token-1234567890`, {})
      expect(res.status, path).toBe(403)
      expect(((await res.json()) as any).error.code).toBe('PATH_OUTSIDE_WORKSPACE')
    }
    const dots = await req('/downloads/../.metadata/secret.txt?token=secret-token-1234567890', {})
    expect(dots.status).not.toBe(200)
  })

  it('answers a missing export with 404 and a hint', async () => {
    const res = await req('/downloads/nope.tar.gz?token=secret-token-1234567890', {})
    expect(res.status).toBe(404)
    expect(((await res.json()) as any).error.hint).toContain('comfydock export')
  })
})

describe('WebSocket handshake security (listening server)', () => {
  let sidecar: RunningSidecar

  beforeAll(async () => {
    const { root } = await makeEnvWorkspace()
    sidecar = await startSidecar({ workspaceRoot: root, origins: [ORIGIN] })
  })
  afterAll(async () => { await sidecar.close() })

  it('listens on 127.0.0.1 only', () => {
    expect(sidecar.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
  })

  it('opens with the token and the ComfyUI origin', async () => {
    expect(await handshakeStatus(`${sidecar.wsUrl}?token=${sidecar.token}`, { origin: ORIGIN })).toBe(101)
  })

  it('refuses a handshake without a token', async () => {
    expect(await handshakeStatus(sidecar.wsUrl, { origin: ORIGIN })).toBe(401)
  })

  it('refuses a handshake with a wrong token', async () => {
    expect(await handshakeStatus(`${sidecar.wsUrl}?token=wrong`, { origin: ORIGIN })).toBe(401)
  })

  it('refuses a handshake from a foreign origin', async () => {
    expect(await handshakeStatus(`${sidecar.wsUrl}?token=${sidecar.token}`, { origin: 'http://evil.example' })).toBe(403)
  })

  it('refuses a handshake with a rebinding Host', async () => {
    expect(await handshakeStatus(`${sidecar.wsUrl}?token=${sidecar.token}`, { host: `attacker.example:${sidecar.port}` })).toBe(403)
  })

  it('refuses the real HTTP server without the token', async () => {
    const res = await fetch(`${sidecar.url}/health`)
    expect(res.status).toBe(401)
  })

  it('survives 10,000 malformed frames and still answers', async () => {
    const client = await connect(sidecar.wsUrl, sidecar.token, ORIGIN)
    const junk = ['', 'not json', '{"v":1}', '[1,2,3]', 'null', '{"v":3,"id":"x","method":"server.hello"}', '{"v":1,"id":"x","method":"nope"}', '{"v":1,"id":"y","method":"env.log","params":{"limit":"many"}}', '\u0000\uffff', '{"v":1,"id":' + '"a'.repeat(100) + '}']
    for (let i = 0; i < 10_000; i++) {
      const frame = junk[i % junk.length]
      if (i % 97 === 0) client.sendRaw(Buffer.from([0xff, 0x00, 0x13]))
      client.sendRaw(frame)
    }
    const answer = await client.call('server.hello', {})
    expect(answer.ok).toBe(true)
    const bad = await client.call('env.log', { limit: -1 })
    expect(bad.ok).toBe(false)
    if (!bad.ok) expect(bad.error.code).toBe('INVALID_ARGUMENT')
    await client.close()
  })
})
