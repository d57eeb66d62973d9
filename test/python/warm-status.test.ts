/**
 * A warm `status` (the venv as it was at its last clean check) runs no installer and reads no package
 * metadata: it compares the venv's fingerprint with the one recorded. These tests change the venv by
 * hand with the environment's own installer (`pip` in a pip environment, `uv pip` in a uv one) after a
 * warm status, and check that the next status notices every kind of change, reports it, and is clean
 * (and warm) again once the change is undone.
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, runCliAsync } from '../support/cli'
import type { RegistryServer } from '../support/registry-server'
import { makeTempDir } from '../support/temp-dir'
import { makeBaseInterpreter, pathWithoutUv, uvDirOnPath, venvVersions } from '../support/venv'
import { makeWheelWorkspace } from '../support/wheel-workspace'

let server: RegistryServer
let ws: string
let indexEnv: Record<string, string>

beforeAll(async () => {
  ;({ server, ws, indexEnv } = await makeWheelWorkspace(makeTempDir('warm-status'),
    [['nodedep-a', '1.0'], ['nodedep-a', '2.0'], ['nodedep-b', '1.0'], ['nodedep-x', '1.0']],
    [{ id: 'pack-a', versions: [{ version: '1.0.0', files: { '__init__.py': '', 'requirements.txt': 'nodedep-a==1.0\nnodedep-b==1.0\n' } }] }]))
}, 120_000)
afterAll(async () => { await server?.stop() })

describe.each(uvDirOnPath() ? ['pip', 'uv'] : ['pip'])('warm status notices a venv changed by hand (%s)', { timeout: 300_000 }, installer => {
  const env = `warm-${installer}`
  const venv = (): string => join(ws, 'environments', env, '.venv')
  const stateFile = (): string => join(venv(), '.comfydock-state.json')
  const site = (): string => { const lib = join(venv(), 'lib'); return join(lib, readdirSync(lib).find(d => d.startsWith('python'))!, 'site-packages') }
  /** The environment's own installer, run by hand on its venv, with the test's wheels only. */
  const byHand = (args: string[]): void => {
    const python = join(venv(), 'bin', 'python')
    const [cmd, full] = installer === 'pip'
      ? [python, ['-m', 'pip', ...args, ...(args[0] === 'uninstall' ? ['-y'] : [])]]
      : [join(uvDirOnPath()!, 'uv'), ['pip', ...args, '--python', python]]
    execFileSync(cmd, full, { env: { ...process.env, ...indexEnv }, stdio: 'ignore' })
  }
  const python = async (): Promise<Record<string, unknown>> => {
    const r = await runCliAsync(['-e', env, 'status', '--json'], { workspace: ws, env: indexEnv })
    return r.json().sections.python
  }
  /**
   * A clean status (a full check, which records the venv), then one more that is warm: it finds the
   * venv as recorded and does not write the record again (each write replaces the file: a new inode).
   */
  const expectCleanAndWarm = async (): Promise<void> => {
    expect(await python()).toMatchObject({ ok: true, pending: [], extra: [], lock: 'ok' })
    const recorded = statSync(stateFile()).ino
    expect(await python()).toMatchObject({ ok: true, pending: [], extra: [] })
    expect(statSync(stateFile()).ino).toBe(recorded)
  }

  beforeAll(async () => {
    const created = runCli(['create', env], { workspace: ws, env: { ...indexEnv, ...(installer === 'pip' ? { PATH: pathWithoutUv() } : {}) } })
    expect(created.code, created.stderr).toBe(0)
    const added = await runCliAsync(['-e', env, 'node', 'add', 'pack-a@1.0.0'], { workspace: ws, env: indexEnv })
    expect(added.code, added.stdout + added.stderr).toBe(0)
    expect(venvVersions(venv())).toMatchObject({ 'nodedep-a': '1.0', 'nodedep-b': '1.0' })
    await expectCleanAndWarm()
  })

  it('a package installed by hand: not in the lock', async () => {
    byHand(['install', 'nodedep-x==1.0'])
    expect(await python()).toMatchObject({ ok: false, extra: ['nodedep-x'], pending: [] })
    byHand(['uninstall', 'nodedep-x'])
    await expectCleanAndWarm()
  })

  it('a locked package upgraded by hand: at another version', async () => {
    byHand(['install', 'nodedep-a==2.0'])
    expect(await python()).toMatchObject({ ok: false, pending: ['nodedep-a==1.0'], extra: [] })
    byHand(['install', 'nodedep-a==1.0'])
    await expectCleanAndWarm()
  })

  it('a locked package uninstalled by hand: missing', async () => {
    byHand(['uninstall', 'nodedep-b'])
    expect(await python()).toMatchObject({ ok: false, pending: ['nodedep-b==1.0'] })
    byHand(['install', 'nodedep-b==1.0'])
    await expectCleanAndWarm()
  })

  it('a dist-info folder deleted: the package is missing', async () => {
    const info = readdirSync(site()).find(e => /^nodedep_b-1\.0\.dist-info$/.test(e))!
    rmSync(join(site(), info), { recursive: true })
    expect(await python()).toMatchObject({ ok: false, pending: ['nodedep-b==1.0'] })
    byHand(['install', 'nodedep-b==1.0'])
    await expectCleanAndWarm()
  })
})

// A venv made with --system-site-packages imports what its base interpreter has too (a distribution's
// torch, say), and the full check counts those packages: the warm path must notice when they change.
describe('warm status notices a change in the base interpreter of a --system-site-packages venv', { timeout: 300_000 }, () => {
  const env = 'warm-system'
  const venv = (): string => join(ws, 'environments', env, '.venv')
  let base: { python: string, site: string }
  const pip = (args: string[]): void => {
    execFileSync(join(venv(), 'bin', 'python'), ['-m', 'pip', ...args], { env: { ...process.env, ...indexEnv }, stdio: 'ignore' })
  }
  const python = async (): Promise<Record<string, unknown>> => {
    const r = await runCliAsync(['-e', env, 'status', '--json'], { workspace: ws, env: indexEnv })
    return r.json().sections.python
  }
  const expectCleanAndWarm = async (): Promise<void> => {
    expect(await python()).toMatchObject({ ok: true, pending: [], extra: [], lock: 'ok' })
    const recorded = statSync(join(venv(), '.comfydock-state.json')).ino
    expect(await python()).toMatchObject({ ok: true, pending: [], extra: [] })
    expect(statSync(join(venv(), '.comfydock-state.json')).ino).toBe(recorded)
  }

  beforeAll(async () => {
    base = makeBaseInterpreter(makeTempDir('base-python'))
    const created = runCli(['create', env, '--python-path', base.python, '--system-site-packages'], { workspace: ws, env: { ...indexEnv, PATH: pathWithoutUv() } })
    expect(created.code, created.stderr).toBe(0)
    const added = await runCliAsync(['-e', env, 'node', 'add', 'pack-a@1.0.0'], { workspace: ws, env: indexEnv })
    expect(added.code, added.stdout + added.stderr).toBe(0)
    // nodedep-b now comes from the base alone: the lock is met through it
    pip(['uninstall', '-y', 'nodedep-b'])
    pip(['install', '--no-deps', '--target', base.site, 'nodedep-b==1.0'])
    expect(venvVersions(venv())).not.toHaveProperty('nodedep-b')
    await expectCleanAndWarm()
  })

  it('a package removed from the base: missing', async () => {
    rmSync(join(base.site, 'nodedep_b-1.0.dist-info'), { recursive: true })
    expect(await python()).toMatchObject({ ok: false, pending: ['nodedep-b==1.0'] })
    pip(['install', '--no-deps', '--target', base.site, 'nodedep-b==1.0'])
    await expectCleanAndWarm()
  })
})
