/**
 * A Python sync killed hard (SIGKILL to the CLI and its installer, no clean-up runs) right after the
 * installer changed the venv and before comfydock wrote the lock or removed what the lock no longer has.
 * The next commands that need the venv tell it from the venv's fingerprint: `status` shows the difference
 * and names `repair`, `run` warns before starting ComfyUI; `repair` then installs exactly what the lock
 * pins. With uv and with pip. Killed in `node add` (a new resolve) and in `rollback` (a locked install).
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI, runCli, runCliAsync, type CliResult } from '../support/cli'
import type { RegistryServer } from '../support/registry-server'
import { makeTempDir } from '../support/temp-dir'
import { pathWithoutUv, uvDirOnPath, venvFreeze } from '../support/venv'
import { makeWheelWorkspace } from '../support/wheel-workspace'

let server: RegistryServer
let ws: string
let indexEnv: Record<string, string>

/** What the installers print once they have changed the venv (as comfydock relays it in --json progress). */
const INSTALLED = /"message":"(\+ nodedep-|Successfully installed)/

/** Runs the CLI in its own process group and SIGKILLs the whole group once stderr matches `when`. */
function killDuring (args: string[], when: RegExp): Promise<{ signal: NodeJS.Signals | null, stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, '--workspace', ws, ...args, '--json'], {
      stdio: ['ignore', 'ignore', 'pipe'], detached: true, env: { ...process.env, ...indexEnv, NO_COLOR: '1' },
    })
    let stderr = ''
    let killed = false
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8')
      if (!killed && when.test(stderr)) {
        killed = true
        process.kill(-child.pid!, 'SIGKILL')
      }
    })
    child.on('error', reject)
    child.on('close', (_code, signal) => resolve({ signal, stderr }))
  })
}

const cli = (env: string, args: string[]): Promise<CliResult> => runCliAsync(['-e', env, ...args], { workspace: ws, env: indexEnv })
const venv = (env: string): string => join(ws, 'environments', env, '.venv')
const lockText = (env: string): string => readFileSync(join(ws, 'environments', env, '.cec', 'requirements.lock.txt'), 'utf8')
/** The venv's packages but the installers' own. */
const packages = (env: string): string[] => venvFreeze(venv(env)).filter(l => !/^(pip|setuptools|wheel)==/.test(l))

beforeAll(async () => {
  ;({ server, ws, indexEnv } = await makeWheelWorkspace(makeTempDir('interrupted-sync'),
    [['nodedep-a', '1.0'], ['nodedep-a', '2.0'], ['nodedep-b', '1.0'], ['nodedep-c', '1.0'], ['nodedep-d', '1.0']], [
      {
        id: 'pack-a',
        versions: [
          { version: '1.0.0', files: { '__init__.py': '', 'requirements.txt': 'nodedep-a==1.0\n' } },
          { version: '2.0.0', files: { '__init__.py': '', 'requirements.txt': 'nodedep-a==2.0\nnodedep-b==1.0\n' } },
        ],
      },
      { id: 'pack-b', versions: [{ version: '1.0.0', files: { '__init__.py': '', 'requirements.txt': 'nodedep-c==1.0\nnodedep-d==1.0\n' } }] },
    ]))
}, 120_000)
afterAll(async () => { await server?.stop() })

describe.each(uvDirOnPath() ? ['uv', 'pip'] : ['pip'])('a sync killed with SIGKILL (%s)', { timeout: 300_000 }, installer => {
  const env = `killed-${installer}`

  beforeAll(async () => {
    const created = runCli(['create', env], { workspace: ws, env: { ...indexEnv, ...(installer === 'pip' ? { PATH: pathWithoutUv() } : {}) } })
    expect(created.code, created.stderr).toBe(0)
    expect((await cli(env, ['node', 'add', 'pack-a@1.0.0'])).code).toBe(0)
    expect((await cli(env, ['commit', '-m', 'pack-a 1.0'])).code).toBe(0)
  })

  it('in node add: status and run name repair, and repair finishes the install with a matching lock', async () => {
    const killed = await killDuring(['-e', env, 'node', 'add', 'pack-b'], INSTALLED)
    expect(killed.signal, killed.stderr).toBe('SIGKILL')
    expect(packages(env)).toContain('nodedep-c==1.0') // the installer got that far
    expect(lockText(env)).not.toContain('nodedep-c') // comfydock did not

    const status = (await cli(env, ['status', '--json'])).json()
    expect(status.sections.python.ok).toBe(false)
    expect(status.sections.python.details.join('\n')).toContain(`\`comfydock -e ${env} repair\``)
    const run = await cli(env, ['run', '--', '--quick-test-for-ci'])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toMatch(new RegExp(`warning: the lock is for another version of pyproject\\.toml; \`comfydock -e ${env} repair\``))

    const repaired = await cli(env, ['repair', '--yes'])
    expect(repaired.code, repaired.stdout + repaired.stderr).toBe(0)
    expect((await cli(env, ['status', '--json'])).json().sections.python).toMatchObject({ ok: true, pending: [], extra: [], lock: 'ok' })
    expect(lockText(env)).toMatch(/^nodedep-c==1\.0/m)
    expect(packages(env)).toEqual(expect.arrayContaining(['nodedep-a==1.0', 'nodedep-c==1.0', 'nodedep-d==1.0']))
    expect((await cli(env, ['commit', '-m', 'pack-b'])).code).toBe(0)
  })

  it('in rollback (a locked install): the venv is back to exactly what the lock pins after repair', async () => {
    const removed = await cli(env, ['node', 'remove', 'pack-b'])
    expect(removed.code, removed.stdout + removed.stderr).toBe(0)
    expect((await cli(env, ['commit', '-m', 'without pack-b'])).code).toBe(0)
    const locked = packages(env)
    const lock = lockText(env)
    expect((await cli(env, ['node', 'update', 'pack-a@2.0.0'])).code).toBe(0)
    expect((await cli(env, ['commit', '-m', 'pack-a 2.0'])).code).toBe(0)
    expect(packages(env)).toEqual(expect.arrayContaining(['nodedep-a==2.0', 'nodedep-b==1.0']))

    const killed = await killDuring(['-e', env, 'rollback', 'HEAD~1'], INSTALLED)
    expect(killed.signal, killed.stderr).toBe('SIGKILL')
    expect(lockText(env)).toBe(lock) // .cec is back at the commit; the venv is half-way there
    expect(packages(env)).toContain('nodedep-b==1.0')

    const status = (await cli(env, ['status', '--json'])).json()
    expect(status.sections.python).toMatchObject({ ok: false, extra: ['nodedep-b'] })
    expect(status.sections.python.details).toContain(`\`comfydock -e ${env} repair\` installs exactly what the lock pins`)
    const run = await cli(env, ['run', '--', '--quick-test-for-ci'])
    expect(run.stderr).toMatch(/warning: the venv differs from the lock \(has nodedep-b the lock does not\)/)

    const repaired = await cli(env, ['repair', '--yes'])
    expect(repaired.code, repaired.stdout + repaired.stderr).toBe(0)
    expect(packages(env)).toEqual(locked)
    expect(lockText(env)).toBe(lock)
    expect((await cli(env, ['status', '--json'])).json().sections.python).toMatchObject({ ok: true, pending: [], extra: [] })
  })
})
