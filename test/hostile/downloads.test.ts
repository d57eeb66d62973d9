/**
 * Attack family: servers that misbehave while comfydock downloads (finding 7). A resume had no
 * If-Range, so the bytes of two versions of a file could land under its name when no hash was known;
 * a server that stalled after its headers hung `model download` (and import, repair) forever; an
 * unreachable host cost five attempts with backoff. Each server is a real one on loopback, each
 * command the built CLI.
 */
import { createHash } from 'node:crypto'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readManifest } from '../../sidecar/manifest'
import { ModelIndex } from '../../sidecar/models'
import { Workspace } from '../../sidecar/workspace'
import { CLI, runCliAsync } from '../support/cli'
import { makeTempDir } from '../support/temp-dir'
import { PROJECT, envOnDisk } from './support/hostile-env'

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void
let server: Server
let base = ''
const handlers = new Map<string, Handler>()
const seen = new Map<string, IncomingMessage['headers'][]>()
const sockets = new Set<Socket>()

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url!.split('?')[0]
    const list = seen.get(path) ?? []
    list.push(req.headers)
    seen.set(path, list)
    const h = handlers.get(path)
    if (!h) { res.writeHead(404).end(); return }
    h(req, res, list.length)
  })
  server.on('connection', s => { sockets.add(s); s.on('close', () => sockets.delete(s)) })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  for (const s of sockets) s.destroy()
  await new Promise(resolve => server.close(resolve))
})

function bytes (n: number, seed: number): Buffer {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed * 31 + (i >> 9)) & 0xff
  return b
}
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

/** Serves `body` with a validator, honouring Range (and If-Range unless told to ignore it). */
function serve (res: ServerResponse, req: IncomingMessage, body: Buffer, opts: { etag?: string, ignoreIfRange?: boolean, dropAfter?: number }): void {
  const headers: Record<string, string | number> = { 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes' }
  if (opts.etag) headers.etag = opts.etag
  let status = 200
  let out = body
  const m = /bytes=(\d+)-/.exec(String(req.headers.range ?? ''))
  const ifRange = req.headers['if-range']
  if (m && (opts.ignoreIfRange || !ifRange || ifRange === opts.etag)) {
    const start = Number(m[1])
    out = body.subarray(start)
    status = 206
    headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`
  }
  headers['content-length'] = out.length
  res.writeHead(status, headers)
  if (opts.dropAfter !== undefined) { res.write(out.subarray(0, opts.dropAfter), () => res.socket?.destroy()); return }
  res.end(out)
}

async function workspace (name: string): Promise<Workspace> {
  return (await Workspace.init(join(makeTempDir(name), 'ws'))).workspace
}

const download = (ws: Workspace, url: string, rel: string, env: NodeJS.ProcessEnv = {}) =>
  runCliAsync(['model', 'download', url, '--path', rel, '--json'], { workspace: ws.root, env })

describe('hostile download servers', () => {
  const v1 = bytes(2 * 1024 * 1024, 1)
  const v2 = bytes(2 * 1024 * 1024, 2)

  for (const [label, opts] of [
    ['honours If-Range', { etag1: '"v1"', etag2: '"v2"', ignoreIfRange: false }],
    ['ignores If-Range but names the new version', { etag1: '"v1"', etag2: '"v2"', ignoreIfRange: true }],
    ['sends no validator at all', { etag1: undefined, etag2: undefined, ignoreIfRange: true }],
  ] as const) {
    it(`never lands bytes of two versions under the name when the file changes during a resume (server ${label})`, async () => {
      const path = `/changing-${label.replace(/\W+/g, '-')}.bin`
      handlers.set(path, (req, res, n) => {
        if (n === 1) serve(res, req, v1, { etag: opts.etag1, dropAfter: 1024 * 1024 }) // v1, cut halfway
        else serve(res, req, v2, { etag: opts.etag2, ignoreIfRange: opts.ignoreIfRange }) // then the file changed
      })
      const ws = await workspace('changing')
      const res = await download(ws, `${base}${path}`, 'loras/changing.bin')
      expect(res.code, res.stderr).toBe(0)
      expect(sha(readFileSync(join(ws.modelsDir, 'loras', 'changing.bin')))).toBe(sha(v2))
      const asks = seen.get(path)!
      if (opts.etag1) expect(asks[1]['if-range']).toBe(opts.etag1)
      else expect(asks[1].range).toBeUndefined() // nothing to tell the versions apart: start over
    })
  }

  it('a download killed with SIGKILL resumes on the rerun only if the file is still the same version', async () => {
    const big1 = bytes(8 * 1024 * 1024, 3)
    const big2 = bytes(8 * 1024 * 1024, 4)
    let version = 1
    handlers.set('/killed.bin', (req, res) => {
      if (version === 2) { serve(res, req, big2, { etag: '"k2"' }); return }
      res.writeHead(200, { 'content-length': big1.length, etag: '"k1"' })
      let at = 0
      const timer = setInterval(() => { res.write(big1.subarray(at, at += 128 * 1024)); if (at >= big1.length) { clearInterval(timer); res.end() } }, 20)
      res.on('close', () => clearInterval(timer))
    })
    const ws = await workspace('killed-download')
    const child = spawn(process.execPath, [CLI, '--workspace', ws.root, 'model', 'download', `${base}/killed.bin`, '--path', 'loras/killed.bin'], { stdio: 'ignore' })
    const exited = new Promise<void>(resolve => child.on('exit', () => resolve()))
    const parts = join(ws.modelsDir, '.comfydock-downloads')
    const partSize = (): number => existsSync(parts) ? readdirSync(parts).filter(f => f.endsWith('.part')).reduce((n, f) => n + statSync(join(parts, f)).size, 0) : 0
    while (partSize() === 0) {
      if (child.exitCode !== null) throw new Error('the download ended before it could be killed')
      await new Promise(resolve => setTimeout(resolve, 5))
    }
    child.kill('SIGKILL')
    await exited
    version = 2 // the file changes on the server before the rerun
    const res = await download(ws, `${base}/killed.bin`, 'loras/killed.bin')
    expect(res.code, res.stderr).toBe(0)
    expect(sha(readFileSync(join(ws.modelsDir, 'loras', 'killed.bin')))).toBe(sha(big2))
    expect(seen.get('/killed.bin')!.at(-1)!['if-range']).toBe('"k1"')
  })

  it('fails with a clear error when the server stalls after the headers, instead of hanging', async () => {
    handlers.set('/stall.bin', (_req, res) => {
      res.writeHead(200, { 'content-length': v1.length, etag: '"s"' })
      res.write(v1.subarray(0, 1000)) // then nothing, forever
    })
    const ws = await workspace('stall')
    const res = await download(ws, `${base}/stall.bin`, 'loras/stall.bin', { COMFYDOCK_HTTP_IDLE_TIMEOUT_MS: '300' })
    expect(res.code).toBe(1)
    expect(res.json().error.code).toBe('DOWNLOAD_FAILED')
    expect(res.json().error.message).toContain('sent nothing for 0.3 s')
    expect(existsSync(join(ws.modelsDir, 'loras', 'stall.bin'))).toBe(false)
  }, 45_000)

  it('fails with a clear error when the registry never answers', async () => {
    handlers.set('/nodes/search', () => { /* accepts, never answers */ })
    const ws = await workspace('stall-registry')
    await ws.setConfig('registry_url', base)
    const res = await runCliAsync(['node', 'search', 'anything', '--json'], { workspace: ws.root, env: { COMFYDOCK_HTTP_IDLE_TIMEOUT_MS: '300' } })
    expect(res.code).toBe(1)
    expect(res.json().error.code).toBe('REGISTRY_UNAVAILABLE')
    expect(res.json().error.message).toContain('sent nothing for 0.3 s')
  }, 45_000)

  it('fails with a clear error when a git server never answers, instead of hanging', async () => {
    handlers.set('/comfyui.git/info/refs', () => { /* accepts, never answers */ })
    const ws = await workspace('stall-git')
    await ws.setConfig('comfyui_source', `${base}/comfyui.git`)
    const res = await runCliAsync(['create', 'x', '--yes', '--json'], { workspace: ws.root, env: { COMFYDOCK_HTTP_IDLE_TIMEOUT_MS: '1000' } })
    expect(res.code).toBe(1)
    expect(res.json().error.message).toMatch(/comfyui\.git/)
    expect(seen.get('/comfyui.git/info/refs')?.length).toBeGreaterThan(0)
    expect(existsSync(join(ws.root, 'environments', 'x'))).toBe(false)
  }, 45_000)

  it('fails at once on a host that does not resolve or refuses, without retrying', async () => {
    const ws = await workspace('unreachable')
    const dns = await download(ws, 'http://no-such-host.invalid/m.bin', 'loras/m.bin')
    expect(dns.code).toBe(1)
    expect(dns.json().error.message).toMatch(/^cannot reach http:\/\/no-such-host.invalid\/m.bin: host not found \(ENOTFOUND\)/)
    const closed = createServer()
    await new Promise<void>(resolve => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise(resolve => closed.close(resolve))
    const refused = await download(ws, `http://127.0.0.1:${port}/m.bin`, 'loras/m.bin')
    expect(refused.json().error.message).toMatch(/connection refused \(ECONNREFUSED\)/)
    expect(refused.json().error.message).not.toMatch(/attempts/)
  })

  it('never lands a cut-off file whose length the server did not announce', async () => {
    handlers.set('/unframed.bin', (_req, res) => {
      // HTTP/1.0 style: no Content-Length, no chunks, the body ends when the connection closes
      const s = res.socket!
      s.write('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n')
      s.end(v1.subarray(0, 5000))
    })
    const ws = await workspace('unframed')
    const res = await download(ws, `${base}/unframed.bin`, 'loras/unframed.bin')
    expect(res.code).toBe(1)
    expect(res.json().error.message).toContain('sent no length')
    expect(existsSync(join(ws.modelsDir, 'loras', 'unframed.bin'))).toBe(false)
  })

  it('marks a download without a known hash unverified in the index and the manifest; a checked one is not', async () => {
    handlers.set('/plain.bin', (req, res) => serve(res, req, v1, { etag: '"p"' }))
    handlers.set('/checked.bin', (req, res) => serve(res, req, v2, { etag: '"c"' }))
    const ws = await workspace('unverified')
    const plain = await download(ws, `${base}/plain.bin`, 'loras/plain.bin')
    expect(plain.code, plain.stderr).toBe(0)
    expect(plain.json().models[0].verified).toBe(false)
    const checked = await runCliAsync(['model', 'download', `${base}/checked.bin`, '--path', 'loras/checked.bin', '--hash', `sha256:${sha(v2)}`, '--json'], { workspace: ws.root })
    expect(checked.json().models[0].verified).toBe(true)
    const index = ModelIndex.open(ws)
    let plainHash: string
    let checkedHash: string
    try {
      const [p] = index.findByPath('loras/plain.bin')
      const [c] = index.findByPath('loras/checked.bin')
      plainHash = p.hash
      checkedHash = c.hash
      expect(p.sources).toEqual([{ type: 'url', url: `${base}/plain.bin`, unverified: true }])
      expect(c.sources[0].unverified).toBeUndefined()
    } finally {
      index.close()
    }
    const env = envOnDisk(ws.root, 'e', `${PROJECT}\n[tool.comfydock]\nschema_version = 1\ncomfyui_version = "v0.3.7"\npython_version = "3.11"\n`)
    for (const h of [plainHash, checkedHash]) {
      const add = await runCliAsync(['-e', 'e', 'model', 'add', h, '--json'], { workspace: ws.root })
      expect(add.code, add.stderr).toBe(0)
    }
    const models = (await readManifest(join(env.cec, 'pyproject.toml'))).tool.comfydock.models!
    expect(models[plainHash].unverified).toBe(true)
    expect(models[checkedHash].unverified).toBeUndefined()
    expect(readdirSync(join(ws.modelsDir, 'loras')).sort()).toEqual(['checked.bin', 'plain.bin'])
  })
})
