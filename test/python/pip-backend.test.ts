import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Pyproject } from '../../sidecar/manifest'
import { writeLocalSettings } from '../../sidecar/python'
import { PipBackend } from '../../sidecar/python/pip'
import { Workspace, type EnvPaths } from '../../sidecar/workspace'
import { buildWheel } from '../support/wheels'
import { makeTempDir } from '../support/temp-dir'

function manifest (deps: string[], groups?: Record<string, string[]>): Pyproject {
  return { project: { name: 'comfydock-env-t', version: '0.1.0', dependencies: deps }, ...(groups ? { 'dependency-groups': groups } : {}), tool: { comfydock: {} } }
}

let ws: Workspace
let wheels: string

async function newEnv (name: string, settings = {}): Promise<{ env: EnvPaths, backend: PipBackend }> {
  const env = ws.env(name)
  mkdirSync(env.cec, { recursive: true })
  await writeLocalSettings(env, settings)
  return { env, backend: new PipBackend(ws, env, settings) }
}

beforeAll(async () => {
  const dir = makeTempDir()
  ws = (await Workspace.init(join(dir, 'ws'))).workspace
  wheels = join(dir, 'wheels')
  await buildWheel(wheels, { name: 'alpha', version: '1.0' })
  await buildWheel(wheels, { name: 'alpha', version: '2.0' })
  await buildWheel(wheels, { name: 'beta', version: '0.5', requires: ['alpha<2'] })
  await buildWheel(wheels, { name: 'Gamma_Pkg', version: '3.1' })
  Object.assign(process.env, { PIP_NO_INDEX: '1', PIP_FIND_LINKS: wheels })
})

describe('PipBackend (venv + pip)', () => {
  it('installs dependencies and every dependency group, and then reports nothing pending', async () => {
    const { backend } = await newEnv('sync')
    const doc = manifest(['alpha>=2'], { 'node-x-12345678': ['gamma-pkg'] })
    expect(await backend.pending(doc)).toEqual(['alpha>=2', 'gamma-pkg'])
    await backend.ensureVenv()
    expect(await backend.pending(doc)).toEqual(['alpha==2.0', 'gamma-pkg==3.1'])
    await backend.sync(doc)
    const installed = await backend.installed()
    expect(installed).toMatchObject({ alpha: '2.0', 'gamma-pkg': '3.1' })
    expect(await backend.pending(doc)).toEqual([])
    expect(backend.kind).toBe('pip')
  })

  it('downgrades a package when the manifest asks for an older version', async () => {
    const { backend } = await newEnv('downgrade')
    await backend.sync(manifest(['alpha==2.0']))
    await backend.sync(manifest(['alpha==1.0']))
    expect((await backend.installed()).alpha).toBe('1.0')
  })

  it('check() throws DEPENDENCY_CONFLICT quoting the conflicting requirements, and installs nothing', async () => {
    const { backend } = await newEnv('conflict')
    const err = await backend.check(manifest(['alpha>=2', 'beta'])).catch(e => e)
    expect(err.code).toBe('DEPENDENCY_CONFLICT')
    expect(err.message).toMatch(/alpha/)
    expect(err.message).toMatch(/beta/)
    expect(err.hint).toBeTruthy()
    expect((await backend.installed()).alpha).toBeUndefined()
    await expect(backend.check(manifest(['alpha', 'beta']))).resolves.toBeUndefined()
  })

  it('sync() of a package no index has fails with PYTHON_SYNC_FAILED naming it', async () => {
    const { backend } = await newEnv('missing')
    const err = await backend.sync(manifest(['no-such-package-xyz'])).catch(e => e)
    expect(err.code).toBe('PYTHON_SYNC_FAILED')
    expect(err.message).toContain('no-such-package-xyz')
  })

  it('creates the venv with --system-site-packages when the local settings ask for it', async () => {
    const { env, backend } = await newEnv('site', { system_site_packages: true })
    await backend.ensureVenv()
    expect(readFileSync(join(env.venv, 'pyvenv.cfg'), 'utf8')).toMatch(/include-system-site-packages = true/)
  })
})
