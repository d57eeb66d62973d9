import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, runCliAsync, type CliResult } from '../support/cli'
import { makeComfyuiRepo, type ComfyuiRepo } from '../support/comfyui-repo'
import { startRegistryServer, type RegistryServer } from '../support/registry-server'
import { makeTempDir } from '../support/temp-dir'
import { buildWheel, localIndexEnv } from '../support/wheels'

let repo: ComfyuiRepo
let server: RegistryServer
let ws: string
let envRoot: string
let indexEnv: Record<string, string>
/** Runs the built CLI without blocking this process: the registry server lives in it and must answer. */
function cli (args: string[]): Promise<CliResult> {
  return runCliAsync(['-e', 'main', ...args], { workspace: ws, env: indexEnv })
}

beforeAll(async () => {
  const dir = makeTempDir('node-cli')
  repo = await makeComfyuiRepo(dir)
  const wheels = join(dir, 'wheels')
  await buildWheel(wheels, { name: 'nodedep-a', version: '1.0' })
  await buildWheel(wheels, { name: 'nodedep-a', version: '2.0' })
  indexEnv = localIndexEnv([repo.findLinks, wheels])
  server = await startRegistryServer([
    { id: 'pack-a', repository: 'https://github.com/someone/Pack-A', versions: [{ version: '1.0.0', classes: ['PackAThing'], files: { '__init__.py': '', 'requirements.txt': 'nodedep-a==1.0\n' } }] },
    { id: 'pack-c', versions: [{ version: '3.0.0', files: { '__init__.py': '', 'requirements.txt': 'nodedep-a==2.0\n' } }] },
    { id: 'pack-plain', versions: [{ version: '0.1.0' }] },
    { id: 'pack-needs-missing', versions: [{ version: '0.1.0', files: { '__init__.py': '', 'requirements.txt': 'no-such-wheel>=1\n' } }] },
  ])
  ws = join(dir, 'ws')
  runCli(['init', ws])
  runCli(['config', 'comfyui_source', repo.url], { workspace: ws })
  runCli(['config', 'registry_url', server.url], { workspace: ws })
  const res = runCli(['create', 'main'], { workspace: ws, env: indexEnv })
  expect(res.code, res.stderr).toBe(0)
  envRoot = join(ws, 'environments', 'main')
}, 180_000)
afterAll(async () => { await server?.stop() })

const venvPython = () => join(envRoot, '.venv', 'bin', 'python')

describe('comfydock node (CLI)', () => {
  it('node add installs the pack and its Python requirements into the venv', async () => {
    const res = await cli(['node', 'add', 'pack-a', '--json'])
    expect(res.code, res.stderr).toBe(0)
    expect(res.json().results[0]).toMatchObject({ ok: true, id: 'pack-a', entry: { version: '1.0.0', source: 'registry' } })
    expect(execFileSync(venvPython(), ['-c', 'import nodedep_a; print(nodedep_a.__version__)'], { encoding: 'utf8' }).trim()).toBe('1.0')
    expect(readFileSync(join(envRoot, '.cec', 'pyproject.toml'), 'utf8')).toMatch(/\[dependency-groups\]\npack-a-[0-9a-f]{8} = \[ "nodedep-a==1\.0" \]/)
  })

  it('a dependency conflict names both packs and leaves pyproject.toml as it was', async () => {
    const before = readFileSync(join(envRoot, '.cec', 'pyproject.toml'), 'utf8')
    const res = await cli(['node', 'add', 'pack-c', 'pack-plain'])
    expect(res.code).toBe(1)
    // both packs, the requirement on each side, and the choices
    expect(res.stdout).toMatch(/failed\s+pack-c: pack-c \(nodedep-a==2\.0\) conflicts with pack-a \(nodedep-a==1\.0\)/)
    expect(res.stdout).toMatch(/ok\s+pack-plain/)
    const after = readFileSync(join(envRoot, '.cec', 'pyproject.toml'), 'utf8')
    expect(after).not.toContain('pack-c')
    expect(after.replace(/\n\[tool\.comfydock\.nodes\.pack-plain\][^[]*/, '\n')).toBe(before)
    expect(existsSync(join(envRoot, 'ComfyUI', 'custom_nodes', 'pack-c'))).toBe(false)
  })

  it('a requirement no index has fails that pack only, naming the requirement', async () => {
    const res = await cli(['node', 'add', 'pack-needs-missing', '--json'])
    expect(res.code).toBe(1)
    expect(res.json().results[0].error).toMatchObject({ code: 'PYTHON_SYNC_FAILED', message: expect.stringMatching(/^pack-needs-missing: [\s\S]*no-such-wheel/) })
    expect(readFileSync(join(envRoot, '.cec', 'pyproject.toml'), 'utf8')).not.toContain('no-such-wheel')
  })

  it('node list shows source, version and state; --json carries the same', async () => {
    const res = await cli(['node', 'list'])
    expect(res.code, res.stderr).toBe(0)
    expect(res.stdout).toMatch(/pack-a\s+registry\s+1\.0\.0\s+installed/)
    expect((await cli(['node', 'list', '--json'])).json().nodes.map((n: { id: string }) => n.id)).toEqual(['pack-a', 'pack-plain'])
  })

  it('status lists missing and untracked packs against pyproject.toml', async () => {
    const nodesDir = join(envRoot, 'ComfyUI', 'custom_nodes')
    renameSync(join(nodesDir, 'pack-plain'), join(envRoot, 'pack-plain-aside'))
    mkdirSync(join(nodesDir, 'stray'))
    const res = await cli(['status', '--json'])
    expect(res.json().sections.nodes).toMatchObject({ ok: false, missing: ['pack-plain'], extra: ['stray'], mismatched: [] })
    renameSync(join(envRoot, 'pack-plain-aside'), join(nodesDir, 'pack-plain'))
    rmSync(join(nodesDir, 'stray'), { recursive: true })
    expect((await cli(['status', '--json'])).json().sections.nodes).toMatchObject({ ok: true, summary: '2 node packs, all installed as pinned' })
  })

  it('node prune refuses without a TTY or --yes, and removes with --yes', async () => {
    const refused = await cli(['node', 'prune'])
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toMatch(/--yes/)
    expect(existsSync(join(envRoot, 'ComfyUI', 'custom_nodes', 'pack-plain'))).toBe(true)
    const res = await cli(['node', 'prune', '--exclude', 'pack-a', '--yes', '--json'])
    expect(res.code, res.stderr).toBe(0)
    expect(res.json().removed.map((r: { id: string }) => r.id)).toEqual(['pack-plain'])
  })

  it('node update says when a pack is already current, and node remove deletes it', async () => {
    const up = await cli(['node', 'update', 'pack-a'])
    expect(up.stdout, up.stderr).toContain('pack-a is already at 1.0.0')
    const res = await cli(['node', 'remove', 'pack-a'])
    expect(res.code, res.stderr).toBe(0)
    expect(existsSync(join(envRoot, 'ComfyUI', 'custom_nodes', 'Pack-A'))).toBe(false)
  })

  it('node search finds packs by name and by node class', async () => {
    expect((await cli(['node', 'search', 'pack-c'])).stdout).toMatch(/^pack-c\s+3\.0\.0/m)
    const res = await cli(['node', 'search', '--class', 'PackAThing', '--json'])
    expect(res.json().packs.map((p: { id: string }) => p.id)).toEqual(['pack-a'])
  })

  it('an unknown pack gives a clear error with a hint, not a stack trace', async () => {
    const res = await cli(['node', 'add', 'does-not-exist'])
    expect(res.code).toBe(1)
    expect(res.stdout).toContain('"does-not-exist" is not a pack in the Comfy Registry')
    expect(res.stderr + res.stdout).not.toMatch(/\n\s+at /)
  })
})
