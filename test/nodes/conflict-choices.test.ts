/**
 * The choices a dependency conflict offers, on every path through the real CLI: the prompt on a terminal,
 * `--yes` (skip, said so), `--on-conflict replace|override[=...]`, and `--json` (the conflict as data).
 * Until a choice is applied nothing changes: pyproject.toml, the lock, the venv and custom_nodes.
 * pack-c needs nodedep-a==2.0, pack-a (already in each environment) nodedep-a==1.0. Both installers.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, runCliAsync, type CliResult } from '../support/cli'
import { makeComfyuiRepo, type ComfyuiRepo } from '../support/comfyui-repo'
import { startRegistryServer, type RegistryServer } from '../support/registry-server'
import { makeTempDir } from '../support/temp-dir'
import { runOnTty } from '../support/tty'
import { pathWithoutUv, uvDirOnPath, venvFreeze } from '../support/venv'
import { buildWheel, localIndexEnv } from '../support/wheels'

let repo: ComfyuiRepo
let server: RegistryServer
let ws: string
let indexEnv: Record<string, string>
// environments uv1..uv3 are made where uv is on PATH (when it is), pip1..pip3 where it is not
const INSTALLERS = uvDirOnPath() ? ['uv', 'pip'] : ['pip']

const cli = (env: string, args: string[]): Promise<CliResult> => runCliAsync(['-e', env, ...args], { workspace: ws, env: indexEnv })
const envRoot = (env: string): string => join(ws, 'environments', env)
const read = (file: string): string | null => existsSync(file) ? readFileSync(file, 'utf8') : null

/** Everything a conflict must leave as it was. */
function snapshot (env: string) {
  const cec = join(envRoot(env), '.cec')
  return {
    pyproject: read(join(cec, 'pyproject.toml')),
    lock: read(join(cec, 'requirements.lock.txt')),
    uvLock: read(join(cec, 'uv.lock')),
    freeze: venvFreeze(join(envRoot(env), '.venv')),
    packC: existsSync(join(envRoot(env), 'ComfyUI', 'custom_nodes', 'pack-c')),
  }
}

const nodedepA = (env: string): string =>
  execFileSync(join(envRoot(env), '.venv', 'bin', 'python'), ['-c', 'import nodedep_a; print(nodedep_a.__version__)'], { encoding: 'utf8' }).trim()

beforeAll(async () => {
  const dir = makeTempDir('conflict-choices')
  repo = await makeComfyuiRepo(dir)
  const wheels = join(dir, 'wheels')
  await buildWheel(wheels, { name: 'nodedep-a', version: '1.0' })
  await buildWheel(wheels, { name: 'nodedep-a', version: '2.0' })
  indexEnv = localIndexEnv([repo.findLinks, wheels])
  server = await startRegistryServer([
    { id: 'pack-a', versions: [{ version: '1.0.0', files: { '__init__.py': '', 'requirements.txt': 'nodedep-a==1.0\n' } }] },
    { id: 'pack-c', versions: [{ version: '3.0.0', files: { '__init__.py': '', 'requirements.txt': 'nodedep-a==2.0\n' } }] },
    // ComfyUI itself needs comfy-dep-a>=1.1: no pack can be removed to make room for this one
    { id: 'pack-old-comfy-dep', versions: [{ version: '0.1.0', files: { '__init__.py': '', 'requirements.txt': 'comfy-dep-a==1.0\n' } }] },
  ])
  ws = join(dir, 'ws')
  runCli(['init', ws])
  runCli(['config', 'comfyui_source', repo.url], { workspace: ws })
  runCli(['config', 'registry_url', server.url], { workspace: ws })
  for (const env of INSTALLERS.flatMap(i => [`${i}1`, `${i}2`, `${i}3`])) {
    const created = runCli(['create', env], { workspace: ws, env: { ...indexEnv, ...(env.startsWith('pip') ? { PATH: pathWithoutUv() } : {}) } })
    expect(created.code, created.stderr).toBe(0)
    const added = await cli(env, ['node', 'add', 'pack-a'])
    expect(added.code, added.stderr).toBe(0)
  }
}, 300_000)
afterAll(async () => { await server?.stop() })

describe.each(INSTALLERS)('a conflicting node add (%s)', { timeout: 120_000 }, installer => {
  const [e1, e2, e3] = [1, 2, 3].map(n => `${installer}${n}`)

  it('--yes takes the safe choice, skip, says so and what else it could do, and changes nothing', async () => {
    const before = snapshot(e1)
    const res = await cli(e1, ['node', 'add', 'pack-c', '--yes'])
    expect(res.code).toBe(1)
    expect(res.stdout).toMatch(/failed\s+pack-c: pack-c \(nodedep-a==2\.0\) conflicts with pack-a \(nodedep-a==1\.0\)/)
    expect(res.stdout).toContain('skipped: nothing changed. Choose otherwise with `--on-conflict replace` or `--on-conflict override[=<requirement>]`.')
    expect(snapshot(e1)).toEqual(before)
  })

  it('--json reports the conflict as data: both sides, the choices, the one taken', async () => {
    const before = snapshot(e1)
    const res = await cli(e1, ['node', 'add', 'pack-c', '--json'])
    expect(res.code).toBe(1)
    const result = res.json().results[0]
    expect(result).toMatchObject({ spec: 'pack-c', ok: false, error: { code: 'DEPENDENCY_CONFLICT' } })
    expect(result.conflict).toMatchObject({
      pack: 'pack-c',
      requirements: ['nodedep-a==2.0'],
      with: [{ kind: 'pack', name: 'pack-a', requirements: ['nodedep-a==1.0'] }],
      chosen: 'skip',
    })
    expect(result.conflict.choices.map((c: { kind: string }) => c.kind)).toEqual(['skip', 'replace', 'override'])
    expect(result.conflict.choices[1]).toMatchObject({ remove: ['pack-a'] })
    expect(result.conflict.choices[2]).toMatchObject({ requirements: ['nodedep-a==2.0'] })
    expect(snapshot(e1)).toEqual(before)
  })

  it('on a terminal asks what to do; picking "remove pack-a" removes it, then adds pack-c', async () => {
    const out = await runOnTty(['--workspace', ws, '-e', e1, 'node', 'add', 'pack-c'], /What should happen\?/, ['\u001b[B\r'], indexEnv)
    expect(out).toContain('pack-c (nodedep-a==2.0) conflicts with pack-a (nodedep-a==1.0). Nothing has changed yet.')
    expect(out).toMatch(/Skip pack-c[\s\S]*Remove pack-a, then add pack-c[\s\S]*Add pack-c with an override: nodedep-a==2\.0/)
    expect(out).toMatch(/ok\s+pack-c .*\(removed pack-a to make room\)/)
    const pyproject = read(join(envRoot(e1), '.cec', 'pyproject.toml'))!
    expect(pyproject).toContain('[tool.comfydock.nodes.pack-c]')
    expect(pyproject).not.toContain('[tool.comfydock.nodes.pack-a]')
    expect(nodedepA(e1)).toBe('2.0')
  })

  it('--on-conflict override keeps both packs, settling the version with the suggested override', async () => {
    const res = await cli(e2, ['node', 'add', 'pack-c', '--on-conflict', 'override'])
    expect(res.code, res.stdout + res.stderr).toBe(0)
    expect(res.stdout).toMatch(/ok\s+pack-c .*settled with an override/)
    const pyproject = read(join(envRoot(e2), '.cec', 'pyproject.toml'))!
    expect(pyproject).toContain('[tool.comfydock.nodes.pack-a]')
    expect(pyproject).toContain('[tool.comfydock.nodes.pack-c]')
    expect(pyproject).toMatch(/override-dependencies = \[ "nodedep-a==2\.0" \]/)
    expect(nodedepA(e2)).toBe('2.0')
  })

  it('--on-conflict replace removes the other pack; with ComfyUI itself on the other side it refuses and changes nothing', async () => {
    const res = await cli(e3, ['node', 'add', 'pack-c', '--on-conflict', 'replace', '--json'])
    expect(res.code, res.stderr).toBe(0)
    expect(res.json().results[0]).toMatchObject({ ok: true, id: 'pack-c', removed: ['pack-a'], conflict: { chosen: 'replace' } })
    expect(existsSync(join(envRoot(e3), 'ComfyUI', 'custom_nodes', 'pack-a'))).toBe(false)
    expect(nodedepA(e3)).toBe('2.0')

    const before = snapshot(e3)
    const refused = await cli(e3, ['node', 'add', 'pack-old-comfy-dep', '--on-conflict', 'replace'])
    expect(refused.code).toBe(1)
    expect(refused.stdout).toMatch(/pack-old-comfy-dep conflicts with ComfyUI, which cannot be removed; nothing changed/)
    expect(snapshot(e3)).toEqual(before)
  })

  it('rejects an --on-conflict it does not know, before doing anything', async () => {
    const res = await cli(e3, ['node', 'add', 'pack-old-comfy-dep', '--on-conflict', 'maybe'])
    expect(res.code).not.toBe(0)
    expect(res.stderr).toContain('--on-conflict maybe: expected skip, replace, override or override=<requirement>')
  })
})
