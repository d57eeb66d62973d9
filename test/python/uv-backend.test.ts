import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { writeManifest, type Pyproject } from '../../sidecar/manifest'
import { openPythonBackend, readLocalSettings, writeLocalSettings } from '../../sidecar/python'
import { Workspace } from '../../sidecar/workspace'
import { makeTempDir } from '../support/temp-dir'

/**
 * Which installer an environment uses, decided by what is on PATH only when the environment has not
 * recorded one. PATH is pointed at folders holding (or not holding) an executable named `uv`; the
 * backend is only opened, never run, so a stand-in script is enough.
 */
describe('the installer an environment uses', () => {
  const saved = process.env.PATH
  let withUv: string
  let withoutUv: string
  let ws: Workspace

  beforeEach(async () => {
    const dir = makeTempDir('installer')
    withUv = join(dir, 'bin-uv')
    withoutUv = join(dir, 'bin-empty')
    mkdirSync(withUv)
    mkdirSync(withoutUv)
    writeFileSync(join(withUv, 'uv'), '#!/bin/sh\nexit 0\n')
    chmodSync(join(withUv, 'uv'), 0o755)
    ws = (await Workspace.init(join(dir, 'ws'))).workspace
  })
  afterEach(() => { process.env.PATH = saved })

  const usePath = (dir: string): void => { process.env.PATH = [dir, '/usr/bin', '/bin'].join(delimiter) }

  async function newEnv (name: string, settings: object) {
    const env = ws.env(name)
    mkdirSync(env.cec, { recursive: true })
    await writeLocalSettings(env, settings)
    return env
  }

  it('keeps a pip environment on pip after uv appears on PATH', async () => {
    const env = await newEnv('p', { installer: 'pip' })
    usePath(withUv)
    expect((await openPythonBackend(ws, env)).kind).toBe('pip')
  })

  it('keeps a uv environment on uv, and says how to get uv when it is gone', async () => {
    const env = await newEnv('u', { installer: 'uv' })
    usePath(withUv)
    expect((await openPythonBackend(ws, env)).kind).toBe('uv')
    usePath(withoutUv)
    const err = await openPythonBackend(ws, env).catch(e => e)
    expect(err.code).toBe('PYTHON_INSTALLER_MISSING')
    expect(err.hint).toMatch(/pip install uv/)
  })

  it('infers and records the installer of an environment made before it was recorded', async () => {
    const pipEnv = await newEnv('old-pip', {})
    mkdirSync(pipEnv.venv, { recursive: true })
    writeFileSync(join(pipEnv.venv, 'pyvenv.cfg'), 'home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.7\n')
    const uvEnv = await newEnv('old-uv', { torch_backend: 'cpu' })
    mkdirSync(uvEnv.venv, { recursive: true })
    writeFileSync(join(uvEnv.venv, 'pyvenv.cfg'), 'home = /usr/bin\nimplementation = CPython\nuv = 0.13.9\nversion_info = 3.11.7\n')
    usePath(withUv)
    expect((await openPythonBackend(ws, pipEnv)).kind).toBe('pip')
    expect((await readLocalSettings(pipEnv)).installer).toBe('pip')
    expect((await openPythonBackend(ws, uvEnv)).kind).toBe('uv')
    expect(JSON.parse(readFileSync(uvEnv.localSettings, 'utf8'))).toEqual({ torch_backend: 'cpu', installer: 'uv' })
  })

  it('gives an environment with no venv and no record the installer on PATH', async () => {
    const env = await newEnv('fresh', {})
    await writeManifest(env.pyproject, { project: { name: 'x', version: '0.1.0', dependencies: [] }, tool: { comfydock: {} } } satisfies Pyproject)
    usePath(withoutUv)
    expect((await openPythonBackend(ws, env)).kind).toBe('pip')
    expect((await readLocalSettings(env)).installer).toBe('pip')
  })
})
