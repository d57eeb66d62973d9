import { describe, expect, it } from 'vitest'
import { ResponseCache, createRegistryClient } from '../../sidecar/nodes/registry'
import { startRegistryServer } from '../support/registry-server'
import { makeTempDir } from '../support/temp-dir'
import { join } from 'node:path'

describe('registry answers cache', () => {
  it('serves fresh answers without the network and refetches past the TTL', async () => {
    const server = await startRegistryServer([{ id: 'p', versions: [{ version: '1.0.0' }] }])
    const cache = new ResponseCache(join(makeTempDir('rc'), 'r.db'))
    const client = createRegistryClient({ baseUrl: server.url, cache, ttlMs: 60_000 })
    expect((await client.getNode('p'))?.latest_version?.version).toBe('1.0.0')
    expect((await client.getNode('p'))?.id).toBe('p')
    expect(server.hits('/nodes/p')).toBe(1)
    const expired = createRegistryClient({ baseUrl: server.url, cache, ttlMs: 0 })
    await expired.getNode('p')
    expect(server.hits('/nodes/p')).toBe(2)
    expect(expired.servedStale).toBe(false)
    await server.stop()
  })

  it('remembers "no such pack" only briefly, so a newly published pack is found', async () => {
    const server = await startRegistryServer()
    const cache = new ResponseCache(join(makeTempDir('rc'), 'r.db'))
    const client = createRegistryClient({ baseUrl: server.url, cache })
    expect(await client.getNode('later')).toBeUndefined()
    const row = cache.get(`${server.url}/nodes/later`)!
    cache.put(`${server.url}/nodes/later`, row.status, row.body, Date.now() - 6 * 60 * 1000)
    await server.addPack({ id: 'later', versions: [{ version: '0.1.0' }] })
    expect((await client.getNode('later'))?.id).toBe('later')
    await server.stop()
  })

  it('says the registry is unavailable when it is down and nothing is cached', async () => {
    const server = await startRegistryServer()
    const url = server.url
    await server.stop()
    const client = createRegistryClient({ baseUrl: url, cache: new ResponseCache(join(makeTempDir('rc'), 'r.db')) })
    await expect(client.getNode('x')).rejects.toMatchObject({ code: 'REGISTRY_UNAVAILABLE', hint: expect.stringContaining('registry_url') })
  })
})
