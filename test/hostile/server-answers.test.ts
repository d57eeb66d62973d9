/**
 * Hostile answers from the servers comfydock asks (registry, node mappings, CivitAI), served on loopback:
 * a wrong shape or a value that could become a path or an option is refused where the answer comes in.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getCivitaiVersion } from '../../sidecar/models/civitai'
import { ResponseCache, createRegistryClient } from '../../sidecar/nodes/registry'
import { loadNodeMappings } from '../../sidecar/nodes/resolver/node-mappings'
import { makeTempDir } from '../support/temp-dir'

let server: Server
let base = ''
const answers = new Map<string, unknown>()

beforeAll(async () => {
  server = createServer((req, res) => {
    const body = answers.get(req.url!.split('?')[0])
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' })
    res.end(body === undefined ? '{}' : JSON.stringify(body))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => { await new Promise(resolve => server.close(resolve)) })

const registry = () => createRegistryClient({ baseUrl: base, cache: new ResponseCache(join(makeTempDir('answers'), 'r.db')) })

describe('hostile server answers', () => {
  it('refuses a registry version that could be read as an option or a path', async () => {
    answers.set('/nodes/evil', { id: 'evil', repository: 'https://example.com/evil', latest_version: { version: '--upload-pack=touch x', downloadUrl: `${base}/x.zip` } })
    await expect(registry().getNode('evil')).rejects.toMatchObject({ code: 'SERVER_ANSWER_INVALID', message: expect.stringContaining('latest_version.version') })
    answers.set('/nodes/evil2', { id: 'evil2', latest_version: { version: '../../x' } })
    await expect(registry().getNode('evil2')).rejects.toMatchObject({ code: 'SERVER_ANSWER_INVALID' })
  })

  it('refuses a registry answer of the wrong shape with the field named, and a download URL that is not http(s)', async () => {
    answers.set('/nodes/odd', { id: 'odd', latest_version: 'not an object' })
    await expect(registry().getNode('odd')).rejects.toMatchObject({ code: 'SERVER_ANSWER_INVALID', message: expect.stringContaining('the Comfy Registry') })
    answers.set('/nodes/local', { id: 'local', latest_version: { version: '1.0.0', downloadUrl: 'file:///etc/passwd' } })
    await expect(registry().getNode('local')).rejects.toMatchObject({ code: 'SERVER_ANSWER_INVALID', message: expect.stringContaining('downloadUrl') })
  })

  it('reads the registry\'s nulls as absent values', async () => {
    answers.set('/nodes/nulls', { id: 'nulls', repository: null, description: null, latest_version: { version: '1.0.0', downloadUrl: null, dependencies: null } })
    expect(await registry().getNode('nulls')).toMatchObject({ id: 'nulls', latest_version: { version: '1.0.0' } })
  })

  it('skips node-mapping entries of the wrong shape and never reads inherited keys', async () => {
    answers.set('/mappings.json', { mappings: { 'A::_': [{ package_id: 'good', rank: 1 }, { rank: 2 }, 'junk'], 'B::_': 'junk' }, package_aliases: {} })
    const m = await loadNodeMappings(`${base}/mappings.json`, new ResponseCache(join(makeTempDir('answers'), 'm.db')))
    expect(m.lookup('A::_').map(e => e.package_id)).toEqual(['good'])
    expect(m.lookup('B::_')).toEqual([])
    expect(m.lookup('constructor')).toEqual([])
    expect(m.repository('toString')).toBeUndefined()
  })

  it('refuses a CivitAI answer of the wrong shape', async () => {
    answers.set('/api/v1/model-versions/7', { id: 'seven', files: [] })
    await expect(getCivitaiVersion(7, { baseUrl: base })).rejects.toMatchObject({ code: 'SERVER_ANSWER_INVALID', message: expect.stringContaining('CivitAI') })
    answers.set('/api/v1/model-versions/8', { id: 8, files: [{ name: 'x.safetensors', primary: true, hashes: { SHA256: 'AB' } }], model: null })
    expect((await getCivitaiVersion(8, { baseUrl: base }))?.files?.[0].name).toBe('x.safetensors')
  })
})
