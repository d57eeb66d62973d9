import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { writeManifest, type Pyproject } from '../../sidecar/manifest'
import { UvBackend, findOnPath, openPythonBackend } from '../../sidecar/python'
import { Workspace } from '../../sidecar/workspace'
import { buildWheel } from '../support/wheels'
import { makeTempDir } from '../support/temp-dir'

const hasUv = Boolean(execFileSync('sh', ['-c', 'command -v uv || true'], { encoding: 'utf8' }).trim())

describe('UvBackend', () => {
  it('is chosen only when uv is on PATH', async () => {
    const dir = makeTempDir()
    const ws = (await Workspace.init(join(dir, 'ws'))).workspace
    const backend = await openPythonBackend(ws, ws.env('x'))
    expect(backend.kind).toBe((await findOnPath('uv')) ? 'uv' : 'pip')
  })

  it.skipIf(!hasUv)('syncs the manifest into .venv with uv.lock kept in .cec', async () => {
    const dir = makeTempDir()
    const ws = (await Workspace.init(join(dir, 'ws'))).workspace
    const wheels = join(dir, 'wheels')
    await buildWheel(wheels, { name: 'alpha', version: '1.0' })
    const env = ws.env('uv')
    mkdirSync(env.cec, { recursive: true })
    const doc: Pyproject = { project: { name: 'comfydock-env-uv', version: '0.1.0', 'requires-python': '>=3.8', dependencies: ['alpha'] }, tool: { comfydock: {} } }
    await writeManifest(env.pyproject, doc)
    const backend = new UvBackend(ws, env, { find_links: [wheels] })
    Object.assign(process.env, { UV_OFFLINE: '1' })
    await backend.sync(doc)
    expect((await backend.installed()).alpha).toBe('1.0')
    expect(await backend.pending(doc)).toEqual([])
  })
})
