import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ComfydockError } from '../../sidecar/errors'
import { authHeadersFor, downloadFile, fetchJson } from '../../sidecar/net'
import { startFileServer, type FileServer } from '../support/file-server'
import { makeTempDir } from '../support/temp-dir'
import { rejection } from './expect-error'

function payload (n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = (i * 131 + seed * 17 + (i >> 8)) & 0xff
  return b
}
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')


describe('downloadFile', () => {
  let server: FileServer
  let cdn: FileServer
  const dir = makeTempDir('dl')
  const body = payload(3 * 1024 * 1024 + 77)
  beforeAll(async () => { server = await startFileServer(); cdn = await startFileServer() })
  afterAll(async () => { await server.close(); await cdn.close() })

  it('writes the file under its name with both hashes and leaves no part file', async () => {
    server.file('/a.bin', body)
    const dest = join(dir, 'plain', 'a.bin')
    const r = await downloadFile(`${server.url}/a.bin`, dest)
    expect(readFileSync(dest).equals(body)).toBe(true)
    expect(r.sha256).toBe(sha(body))
    expect(r.blake3).toMatch(/^[0-9a-f]{64}$/)
    expect(readdirSync(join(dir, 'plain'))).toEqual(['a.bin'])
  })

  it('resumes with a Range request after the connection drops mid-body', async () => {
    server.file('/drop.bin', body)
    server.faults('/drop.bin', { drop: 1_000_000 })
    const dest = join(dir, 'drop.bin')
    const r = await downloadFile(`${server.url}/drop.bin`, dest, { backoffMs: 1, expectedSha256: sha(body) })
    expect(readFileSync(dest).equals(body)).toBe(true)
    const asks = server.requests.filter(q => q.path === '/drop.bin')
    expect(asks).toHaveLength(2)
    expect(asks[1].headers.range).toMatch(/^bytes=\d+-$/)
    expect(Number(/=(\d+)/.exec(asks[1].headers.range!)![1])).toBeGreaterThan(0)
    expect(r.sha256).toBe(sha(body))
  })

  it('continues a part file left by an earlier run instead of starting over, when a hash will check it', async () => {
    server.file('/part.bin', body)
    const dest = join(dir, 'part.bin')
    writeFileSync(join(dir, '.part.bin.part'), body.subarray(0, 2_000_000))
    const r = await downloadFile(`${server.url}/part.bin`, dest, { expectedSha256: sha(body) })
    expect(r.resumedFrom).toBe(2_000_000)
    expect(server.requests.filter(q => q.path === '/part.bin')[0].headers.range).toBe('bytes=2000000-')
    expect(sha(readFileSync(dest))).toBe(sha(body))
  })

  it('starts over when the server ignores the Range and sends the whole file', async () => {
    server.file('/norange.bin', body)
    server.faults('/norange.bin', { ignoreRange: true })
    writeFileSync(join(dir, '.norange.bin.part'), Buffer.alloc(500_000, 9))
    await downloadFile(`${server.url}/norange.bin`, join(dir, 'norange.bin'), { expectedSha256: sha(body) })
    expect(sha(readFileSync(join(dir, 'norange.bin')))).toBe(sha(body))
  })

  it('survives a Content-Length longer than the body: resumes, learns the file is complete, verifies it', async () => {
    server.file('/long.bin', body)
    server.faults('/long.bin', { wrongLength: 1000 })
    const r = await downloadFile(`${server.url}/long.bin`, join(dir, 'long.bin'), { backoffMs: 1, expectedSha256: sha(body) })
    expect(r.size).toBe(body.length)
  })

  it('rejects a corrupted body against the expected hash and leaves neither the file nor a part', async () => {
    server.file('/bad.bin', body)
    server.faults('/bad.bin', { corrupt: true })
    const dest = join(dir, 'bad', 'bad.bin')
    const err = await rejection(downloadFile(`${server.url}/bad.bin`, dest, { expectedSha256: sha(body) }))
    expect(err.code).toBe('MODEL_HASH_MISMATCH')
    expect(err.message).toContain(sha(body))
    expect(existsSync(dest)).toBe(false)
    expect(readdirSync(join(dir, 'bad'))).toEqual([])
  })

  it('retries server errors with backoff, and gives up on a 404 at once', async () => {
    server.file('/flaky.bin', body)
    server.faults('/flaky.bin', { status: 503 }, { status: 500 })
    await downloadFile(`${server.url}/flaky.bin`, join(dir, 'flaky.bin'), { backoffMs: 1 })
    expect(server.requests.filter(q => q.path === '/flaky.bin')).toHaveLength(3)
    const err = await rejection(downloadFile(`${server.url}/missing.bin`, join(dir, 'missing.bin'), { backoffMs: 1 }))
    expect(err.code).toBe('DOWNLOAD_FAILED')
    expect(server.requests.filter(q => q.path === '/missing.bin')).toHaveLength(1)
  })

  it('fails with DOWNLOAD_FAILED after the retries, keeping the part so a rerun resumes', async () => {
    server.file('/dead.bin', body)
    server.faults('/dead.bin', { drop: 100_000 }, { status: 502 }, { status: 502 })
    const err = await rejection(downloadFile(`${server.url}/dead.bin`, join(dir, 'dead.bin'), { retries: 2, backoffMs: 1 }))
    expect(err.code).toBe('DOWNLOAD_FAILED')
    expect(err.hint).toMatch(/resumes after the \d+ bytes/)
    expect(existsSync(join(dir, 'dead.bin'))).toBe(false)
    expect(readFileSync(join(dir, '.dead.bin.part')).length).toBeGreaterThan(0)
    const r = await downloadFile(`${server.url}/dead.bin`, join(dir, 'dead.bin'))
    expect(r.resumedFrom).toBeGreaterThan(0)
    expect(r.sha256).toBe(sha(body))
  })

  it('refuses to start when the announced size does not fit on the disk', async () => {
    server.file('/huge.bin', body)
    server.faults('/huge.bin', { wrongLength: 1e15 })
    const err = await rejection(downloadFile(`${server.url}/huge.bin`, join(dir, 'huge.bin')))
    expect(err.code).toBe('DISK_SPACE')
    expect(existsSync(join(dir, 'huge.bin'))).toBe(false)
  })

  it('sends a token only to its own host: it is dropped on a redirect to a CDN on another origin', async () => {
    const url = server.huggingface('org/repo', 'main', 'w.safetensors', body, { cdn, token: 'hf_secret_token' })
    const headers = authHeadersFor(url, [{ baseUrl: server.url, token: 'hf_secret_token' }, { baseUrl: 'https://civitai.com', token: 'civ' }])
    expect(headers).toEqual({ authorization: 'Bearer hf_secret_token' })
    expect(authHeadersFor(`${cdn.url}/x`, [{ baseUrl: server.url, token: 'hf_secret_token' }])).toEqual({})
    const r = await downloadFile(url, join(dir, 'w.safetensors'), { headers })
    expect(r.finalUrl.startsWith(cdn.url)).toBe(true)
    expect(server.requests.find(q => q.path === '/org/repo/resolve/main/w.safetensors')?.headers.authorization).toBe('Bearer hf_secret_token')
    expect(cdn.requests.every(q => q.headers.authorization === undefined)).toBe(true)
  })

  it('names the file from Content-Disposition when the destination is chosen late', async () => {
    const url = server.civitai(4242, 'cool_lora.safetensors', body)
    const r = await downloadFile(url, info => join(dir, 'late', info.filename ?? 'x'), { partFile: join(dir, 'late', '.4242.part') })
    expect(r.filename).toBe('cool_lora.safetensors')
    expect(r.path).toBe(join(dir, 'late', 'cool_lora.safetensors'))
  })

  it('reports an auth failure with a hint naming the token setting', async () => {
    server.file('/private.bin', body, { token: 'x' })
    const err = await rejection(downloadFile(`${server.url}/private.bin`, join(dir, 'private.bin')))
    expect(err.code).toBe('DOWNLOAD_AUTH_REQUIRED')
    expect(err.hint).toContain('comfydock config')
  })
})

describe('fetchJson', () => {
  let server: FileServer
  beforeAll(async () => { server = await startFileServer() })
  afterAll(async () => { await server.close() })

  it('parses JSON, follows redirects and returns undefined for a 404 when allowed', async () => {
    server.json('/v1/thing', { ok: 1 })
    server.redirect('/old', '/v1/thing', 301)
    expect(await fetchJson(`${server.url}/old`)).toEqual({ ok: 1 })
    expect(await fetchJson(`${server.url}/nope`, { allowNotFound: true })).toBeUndefined()
  })

  it('throws the caller\'s error code for HTTP errors, non-JSON answers and unreachable hosts', async () => {
    server.file('/text', 'hello')
    expect((await rejection(fetchJson(`${server.url}/text`, { errorCode: 'REGISTRY_UNAVAILABLE' }))).code).toBe('REGISTRY_UNAVAILABLE')
    const e404 = await rejection(fetchJson(`${server.url}/nope`, { errorCode: 'REGISTRY_UNAVAILABLE' }))
    expect(e404.code).toBe('REGISTRY_UNAVAILABLE')
    expect((e404 as any).status).toBe(404)
    const down = await rejection(fetchJson('http://127.0.0.1:1/x?token=abc', { errorCode: 'REGISTRY_UNAVAILABLE' }))
    expect(down.code).toBe('REGISTRY_UNAVAILABLE')
    expect(down.message).toContain('connection refused')
    expect(down.message).not.toContain('abc')
  })
})
