import { execFileSync, spawn } from 'node:child_process'
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { CLI, runCli } from '../support/cli'
import { makeComfyuiRepo, type ComfyuiRepo } from '../support/comfyui-repo'
import { makeTempDir } from '../support/temp-dir'
import { localIndexEnv } from '../support/wheels'
import { pathWithoutUv, uvDirOnPath, venvVersions } from '../support/venv'

let repo: ComfyuiRepo
let tmp: string

function newWorkspace (source = repo.url): string {
  const ws = join(makeTempDir('ws'), 'ws')
  expect(runCli(['init', ws]).code).toBe(0)
  expect(runCli(['config', 'comfyui_source', source], { workspace: ws }).code).toBe(0)
  return ws
}

const cli = (ws: string, args: string[], env: Record<string, string> = {}) => runCli(args, { workspace: ws, env: { ...repo.indexEnv, ...env } })
const git = (dir: string, args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim()
const venvPackages = (envRoot: string): Record<string, string> => venvVersions(join(envRoot, '.venv'))

beforeAll(async () => {
  tmp = makeTempDir('repo')
  repo = await makeComfyuiRepo(tmp)
})

describe('comfydock create', () => {
  it('creates an environment at a tag: ComfyUI, .cec git repo with pyproject, synced venv, models via extra_model_paths.yaml', () => {
    const ws = newWorkspace()
    const res = cli(ws, ['create', 'first', '--comfyui', 'v0.3.6', '--json'], { PATH: pathWithoutUv() })
    expect(res.code, res.stderr).toBe(0)
    const out = res.json()
    expect(out).toMatchObject({ name: 'first', comfyui: { version: 'v0.3.6', type: 'release', commit: repo.tags['v0.3.6'] }, backend: 'pip', cloned: true, active: true })
    // without uv, the user learns how to get it and what they lose
    expect(res.stderr).toMatch(/uv is not on PATH.*pip install uv/)
    const root = join(ws, 'environments', 'first')
    const pyproject = readFileSync(join(root, '.cec', 'pyproject.toml'), 'utf8')
    expect(pyproject).toContain('name = "comfydock-env-first"')
    expect(pyproject).toMatch(/dependencies = \[\s*"comfy-dep-a==1.0"\s*\]/)
    expect(pyproject).toContain('comfyui_version = "v0.3.6"')
    expect(pyproject).toContain('comfyui_version_type = "release"')
    expect(pyproject).toContain(`comfyui_commit_sha = "${repo.tags['v0.3.6']}"`)
    expect(pyproject).toMatch(/python_version = "3\.\d+"/)
    expect(pyproject).toContain('schema_version = 1')
    expect(pyproject).not.toMatch(/torch_backend|system_site|python-path|\/usr\//)
    expect(readFileSync(join(root, '.cec', '.python-version'), 'utf8')).toMatch(/^3\.\d+\n$/)
    const gitignore = readFileSync(join(root, '.cec', '.gitignore'), 'utf8')
    expect(gitignore).toMatch(/^local\.json$/m)
    expect(gitignore).toMatch(/^\.complete$/m)
    expect(git(join(root, '.cec'), ['log', '--format=%s'])).toBe('Initial environment setup')
    expect(git(join(root, '.cec'), ['status', '--porcelain'])).toBe('')
    expect(JSON.parse(readFileSync(join(root, '.cec', 'local.json'), 'utf8'))).toMatchObject({ installer: 'pip', system_site_packages: false, torch_backend: 'auto' })
    expect(existsSync(join(root, '.cec', '.complete'))).toBe(true)
    expect(existsSync(join(root, '.cec', 'workflows'))).toBe(true)
    expect(existsSync(join(root, 'ComfyUI', 'user', 'default', 'workflows'))).toBe(true)
    expect(existsSync(join(root, 'ComfyUI', 'custom_nodes'))).toBe(true)
    expect(readFileSync(join(root, 'ComfyUI', 'comfyui_version.py'), 'utf8')).toContain('0.3.6')
    const extra = readFileSync(join(root, 'ComfyUI', 'extra_model_paths.yaml'), 'utf8')
    expect(extra).toContain(`base_path: ${join(ws, 'models')}`)
    expect(extra).toContain('checkpoints: checkpoints')
    expect(lstatSync(join(root, 'ComfyUI', 'models')).isSymbolicLink()).toBe(false)
    expect(venvPackages(root)).toMatchObject({ 'comfy-dep-a': '1.0' })
    const list = cli(ws, ['list', '--json']).json()
    expect(list.environments).toEqual([expect.objectContaining({ name: 'first', active: true, complete: true, comfyui_version: 'v0.3.6' })])
  })

  it.skipIf(!uvDirOnPath())('uses uv when it is on PATH, records it, and keeps using it', () => {
    const ws = newWorkspace()
    const res = cli(ws, ['create', 'withuv', '--comfyui', 'v0.3.6', '--json'])
    expect(res.code, res.stderr).toBe(0)
    expect(res.json()).toMatchObject({ backend: 'uv' })
    expect(res.stderr).not.toMatch(/uv is not on PATH/)
    const root = join(ws, 'environments', 'withuv')
    expect(JSON.parse(readFileSync(join(root, '.cec', 'local.json'), 'utf8'))).toMatchObject({ installer: 'uv' })
    expect(venvPackages(root)).toMatchObject({ 'comfy-dep-a': '1.0' })
    // uv gone from PATH: the environment says what it needs instead of switching installer
    const status = cli(ws, ['-e', 'withuv', 'status', '--json'], { PATH: pathWithoutUv() })
    expect(status.stdout + status.stderr).toMatch(/PYTHON_INSTALLER_MISSING|uv, which is not on PATH/)
  })

  it('creates at an abbreviated commit, records the full sha, and does not change the active environment', () => {
    const ws = newWorkspace()
    expect(cli(ws, ['create', 'a', '--comfyui', 'v0.3.6']).code).toBe(0)
    const short = repo.commits[2].slice(0, 10)
    const res = cli(ws, ['create', 'b', '--comfyui', short, '--json'])
    expect(res.code, res.stderr).toBe(0)
    expect(res.json()).toMatchObject({ comfyui: { type: 'commit', commit: repo.commits[2] }, active: false })
    const root = join(ws, 'environments', 'b')
    expect(readFileSync(join(root, 'ComfyUI', 'nodes.py'), 'utf8')).toContain('LatentUpscale')
    expect(readFileSync(join(root, '.cec', 'pyproject.toml'), 'utf8')).toContain(`comfyui_commit_sha = "${repo.commits[2]}"`)
    expect(venvPackages(root)).toMatchObject({ 'comfy-dep-a': '1.1', 'comfy-dep-b': '2.0' })
    expect(cli(ws, ['list', '--json']).json().environments.map((e: any) => [e.name, e.active])).toEqual([['a', true], ['b', false]])
  })

  it('reuses the cached clone: a second environment of the same version needs no access to the source', () => {
    const src = join(makeTempDir('src'), 'ComfyUI')
    execFileSync('git', ['clone', '-q', repo.url, src])
    const ws = newWorkspace(src)
    const first = cli(ws, ['create', 'one', '--json'])
    expect(first.code, first.stderr).toBe(0)
    expect(first.json()).toMatchObject({ comfyui: { version: 'v0.3.7' }, cloned: true })
    renameSync(src, src + '-gone')
    const second = cli(ws, ['create', 'two', '--comfyui', 'v0.3.7', '--json'])
    expect(second.code, second.stderr).toBe(0)
    expect(second.json()).toMatchObject({ comfyui: { version: 'v0.3.7', commit: repo.tags['v0.3.7'] }, cloned: false })
    const third = cli(ws, ['create', 'three', '--json'])
    expect(third.code, third.stderr).toBe(0)
    expect(third.json()).toMatchObject({ comfyui: { version: 'v0.3.7' }, cloned: false })
    expect(readFileSync(join(ws, 'environments', 'two', 'ComfyUI', 'comfyui_version.py'), 'utf8')).toContain('0.3.7')
  })
})

describe('comfydock create failures leave nothing behind', () => {
  function expectNoLeftovers (ws: string, name: string): void {
    expect(existsSync(join(ws, 'environments', name))).toBe(false)
    expect(readdirSync(join(ws, 'environments'))).toEqual([])
    expect(readdirSync(join(ws, 'cache', 'comfyui-v1')).filter(f => f.startsWith('.clone-'))).toEqual([])
    expect(JSON.parse(readFileSync(join(ws, '.metadata', 'workspace.json'), 'utf8')).active_environment).toBeNull()
  }

  it('an unknown ref fails with COMFYUI_REF_NOT_FOUND naming the newest releases', () => {
    const ws = newWorkspace()
    mkdirSync(join(ws, 'cache', 'comfyui-v1'), { recursive: true })
    const res = cli(ws, ['create', 'bad', '--comfyui', 'v9.9.9'])
    expect(res.code).toBe(1)
    expect(res.stderr).toContain('error[COMFYUI_REF_NOT_FOUND]')
    expect(res.stderr).toContain('"v9.9.9"')
    expect(res.stderr).toMatch(/hint: Newest releases: v0\.3\.7, v0\.3\.6/)
    expect(res.stderr).not.toMatch(/\n\s+at /)
    expectNoLeftovers(ws, 'bad')
  })

  it('a source that is not a git repository fails with COMFYUI_SOURCE_UNAVAILABLE and a config hint', () => {
    const notRepo = makeTempDir('notrepo')
    const ws = newWorkspace(notRepo)
    mkdirSync(join(ws, 'cache', 'comfyui-v1'), { recursive: true })
    const res = cli(ws, ['create', 'broken'])
    expect(res.code).toBe(1)
    expect(res.stderr).toContain('error[COMFYUI_SOURCE_UNAVAILABLE]')
    expect(res.stderr).toContain(notRepo)
    expect(res.stderr).toMatch(/hint: .*comfydock config comfyui_source/)
    expectNoLeftovers(ws, 'broken')
  })

  it('a failing pip install fails with PYTHON_SYNC_FAILED naming the requirement and removes the environment', () => {
    const ws = newWorkspace()
    const empty = makeTempDir('nowheels')
    const res = cli(ws, ['create', 'nopip', '--comfyui', 'v0.3.6'], localIndexEnv([empty]))
    expect(res.code).toBe(1)
    expect(res.stderr).toContain('error[PYTHON_SYNC_FAILED]')
    expect(res.stderr).toContain('comfy-dep-a')
    expect(res.stderr).toMatch(/installing Python packages/)
    expectNoLeftovers(ws, 'nopip')
    // the ComfyUI clone stays cached for the next try
    expect(readdirSync(join(ws, 'cache', 'comfyui-v1'))).toContain(repo.tags['v0.3.6'])
  })

  it('Ctrl-C during create cancels it and removes the half-made environment', async () => {
    const ws = newWorkspace()
    const child = spawn(process.execPath, [CLI, '--workspace', ws, 'create', 'interrupted', '--comfyui', 'v0.3.6'], { env: { ...process.env, ...repo.indexEnv, NO_COLOR: '1' } })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
      if (stderr.includes('create Python venv...') && !child.killed) child.kill('SIGINT')
    })
    const code = await new Promise<number | null>(resolve => child.on('exit', c => resolve(c)))
    // as every command stopped by Ctrl-C: exit 130 and one "cancelled" line
    expect(code).toBe(130)
    expect(stderr.trim().split('\n').pop()).toMatch(/^cancelled: creating environment "interrupted" was cancelled/)
    expectNoLeftovers(ws, 'interrupted')
  })

  it('refuses an existing name and an invalid name, with hints, without touching the existing one', () => {
    const ws = newWorkspace()
    expect(cli(ws, ['create', 'dup', '--comfyui', 'v0.3.6']).code).toBe(0)
    const before = readFileSync(join(ws, 'environments', 'dup', '.cec', 'pyproject.toml'), 'utf8')
    const again = cli(ws, ['create', 'dup'])
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/error\[ENV_EXISTS\].*"dup"/)
    expect(again.stderr).toContain('hint: Pick another name, or remove it first with `comfydock delete dup`.')
    expect(readFileSync(join(ws, 'environments', 'dup', '.cec', 'pyproject.toml'), 'utf8')).toBe(before)
    expect(existsSync(join(ws, 'environments', 'dup', '.cec', '.complete'))).toBe(true)
    const bad = cli(ws, ['create', '../evil'])
    expect(bad.stderr).toContain('error[ENV_INVALID_NAME]')
    expect(existsSync(join(ws, 'evil'))).toBe(false)
  })
})
