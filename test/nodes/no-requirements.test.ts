import { execFileSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getPythonStatus } from '../../sidecar/env'
import { readManifest } from '../../sidecar/manifest'
import { addNodes } from '../../sidecar/nodes'
import { openPythonBackend } from '../../sidecar/python'
import { startRegistryServer, type RegistryServer } from '../support/registry-server'
import { makeWorkspaceWithEnv } from './env-fixture'

let server: RegistryServer
beforeAll(async () => {
  server = await startRegistryServer([{ id: 'plain-pack', versions: [{ version: '1.0.0', files: { '__init__.py': 'NODE_CLASS_MAPPINGS = {}\n' } }] }])
})
afterAll(async () => { await server?.stop() })

// pip refuses `pip install` with nothing to install ("You must give at least one requirement").
describe('an environment without any Python requirements', () => {
  it('adds a pack without requirements, reports the venv as matching and checks cleanly, never asking pip to install nothing', async () => {
    const { ws, env } = await makeWorkspaceWithEnv({}, { registry_url: server.url })
    execFileSync('python3', ['-m', 'venv', env.venv])
    const out = await addNodes(ws, env, ['plain-pack'])
    expect(out.results[0]).toMatchObject({ ok: true, id: 'plain-pack', requirements: [] })
    const doc = await readManifest(env.pyproject)
    expect(doc['dependency-groups']).toBeUndefined()
    const backend = await openPythonBackend(ws, env)
    await expect(backend.check(doc)).resolves.toBeUndefined()
    expect(await backend.pending(doc)).toEqual([])
    expect(await getPythonStatus(ws, env, doc)).toMatchObject({ ok: true, pending: [] })
  }, 60_000)
})
