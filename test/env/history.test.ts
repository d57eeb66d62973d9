import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../support/cli'
import { makeComfyuiRepo, type ComfyuiRepo } from '../support/comfyui-repo'
import { makeTempDir } from '../support/temp-dir'

let repo: ComfyuiRepo
let ws: string
let cec: string
let envRoot: string
const cli = (args: string[]) => runCli(args, { workspace: ws, env: repo.indexEnv })
const pkgVersion = (name: string): string => execFileSync(join(envRoot, '.venv', 'bin', 'python'), ['-c', `import ${name}; print(${name}.__version__)`], { encoding: 'utf8' }).trim()

beforeAll(async () => {
  const dir = makeTempDir('hist')
  repo = await makeComfyuiRepo(dir)
  ws = join(dir, 'ws')
  runCli(['init', ws])
  runCli(['config', 'comfyui_source', repo.url], { workspace: ws })
  const res = cli(['create', 'h', '--comfyui', 'v0.3.7'])
  expect(res.code, res.stderr).toBe(0)
  envRoot = join(ws, 'environments', 'h')
  cec = join(envRoot, '.cec')
}, 120_000)

describe('comfydock commit / log / rollback', () => {
  it('commit refuses when nothing changed, with a hint', () => {
    const res = cli(['commit', '-m', 'nothing'])
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(/error\[NOTHING_TO_COMMIT\].*"h"/)
    expect(res.stderr).toContain('hint:')
  })

  it('commits changes, lists them by short id, and rolls back the manifest, ComfyUI and packages while keeping untracked files', () => {
    const first = cli(['log', '--json']).json().commits
    expect(first).toHaveLength(1)
    expect(first[0].subject).toBe('Initial environment setup')

    // Change ComfyUI version + requirements and add a workflow, then commit.
    const file = join(cec, 'pyproject.toml')
    const original = readFileSync(file, 'utf8')
    writeFileSync(file, original
      .replace('"comfy-dep-a>=1.1"', '"comfy-dep-a==1.0"')
      .replace('comfyui_version = "v0.3.7"', 'comfyui_version = "v0.3.6"')
      .replace(repo.tags['v0.3.7'], repo.tags['v0.3.6']))
    mkdirSync(join(cec, 'workflows'), { recursive: true })
    writeFileSync(join(cec, 'workflows', 'portrait.json'), '{"nodes":[]}')
    const commit = cli(['commit', '-m', 'Go back to 0.3.6', '--json'])
    expect(commit.code, commit.stderr).toBe(0)
    const second = commit.json()
    expect(second.short).toMatch(/^[0-9a-f]{7}$/)
    expect(second.changes.map((c: any) => c.path).sort()).toEqual(['pyproject.toml', 'workflows/portrait.json'])

    const log = cli(['log', '--json']).json().commits
    expect(log.map((c: any) => c.subject)).toEqual(['Go back to 0.3.6', 'Initial environment setup'])
    expect(cli(['log']).stdout).toMatch(new RegExp(`^${second.short}\\s.*Go back to 0\\.3\\.6$`, 'm'))

    // Rolling back to HEAD applies the committed manifest: ComfyUI 0.3.6 and comfy-dep-a 1.0.
    const applied = cli(['rollback', 'HEAD', '--json'])
    expect(applied.code, applied.stderr).toBe(0)
    expect(applied.json()).toMatchObject({ commit: null, comfyuiChanged: true })
    expect(readFileSync(join(envRoot, 'ComfyUI', 'comfyui_version.py'), 'utf8')).toContain('0.3.6')
    expect(pkgVersion('comfy_dep_a')).toBe('1.0')

    // Uncommitted edits block a rollback; an untracked user file does not, and survives it.
    writeFileSync(join(cec, 'notes.txt'), 'mine')
    writeFileSync(file, readFileSync(file, 'utf8') + '\n# scratch\n')
    const refused = cli(['rollback', first[0].short])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/error\[UNCOMMITTED_CHANGES\].*pyproject\.toml/)
    expect(refused.stderr).toContain('--force')
    expect(readFileSync(file, 'utf8')).toContain('# scratch')

    const back = cli(['rollback', first[0].short, '--force', '--json'])
    expect(back.code, back.stderr).toBe(0)
    expect(back.json()).toMatchObject({ target: first[0].commit, comfyuiChanged: true })
    expect(readFileSync(file, 'utf8')).toBe(original)
    expect(existsSync(join(cec, 'workflows', 'portrait.json'))).toBe(false)
    expect(readFileSync(join(cec, 'notes.txt'), 'utf8')).toBe('mine')
    expect(readFileSync(join(envRoot, 'ComfyUI', 'comfyui_version.py'), 'utf8')).toContain('0.3.7')
    expect(pkgVersion('comfy_dep_a')).toBe('1.1')

    // History is appended, never rewritten: old ids keep their meaning.
    const after = cli(['log', '--json']).json().commits
    expect(after.map((c: any) => c.short)).toEqual([back.json().commit.slice(0, 7), second.short, first[0].short])
    expect(after[0].subject).toBe(`Rollback to ${first[0].short}`)
    expect(cli(['status', '--json']).json().sections).toMatchObject({ comfyui: { ok: true }, python: { ok: true } })
  })

  it('brings ComfyUI\'s copies of tracked workflows to the rolled-back version; an edit not committed there blocks it', () => {
    // finding 10: the user folder kept the newer copy, and status suggested a commit that would undo the rollback
    const userWorkflows = join(envRoot, 'ComfyUI', 'user', 'default', 'workflows')
    mkdirSync(userWorkflows, { recursive: true })
    const file = join(userWorkflows, 'flow.json')
    const version = (n: number) => JSON.stringify({ nodes: Array.from({ length: n }, (_, i) => ({ id: i + 1, type: 'EmptyLatentImage', widgets_values: [512, 512, 1] })), links: [] })
    writeFileSync(file, version(1))
    expect(cli(['workflow', 'track', 'flow']).code).toBe(0)
    const one = cli(['commit', '-m', 'flow v1', '--json'])
    expect(one.code, one.stderr).toBe(0)
    writeFileSync(file, version(2))
    const two = cli(['commit', '-m', 'flow v2', '--json'])
    expect(two.code, two.stderr).toBe(0)

    const back = cli(['rollback', one.json().short])
    expect(back.code, back.stderr).toBe(0)
    expect(readFileSync(file, 'utf8')).toBe(version(1))
    const flow = cli(['status', '--json']).json().sections.workflows.workflows.find((w: any) => w.name === 'flow')
    expect(flow).toMatchObject({ state: 'synced', tracked: true })
    expect(flow.fix).toBeUndefined()

    writeFileSync(file, version(3))
    const refused = cli(['rollback', two.json().short])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/UNCOMMITTED_CHANGES.*ComfyUI\/user\/default\/workflows\/flow\.json/)
    expect(readFileSync(file, 'utf8')).toBe(version(3))
    expect(cli(['rollback', two.json().short, '--force']).code).toBe(0)
    expect(readFileSync(file, 'utf8')).toBe(version(2))
  })

  it('rollback of an unknown ref fails with REF_NOT_FOUND pointing at log', () => {
    const res = cli(['rollback', 'deadbeef'])
    expect(res.code).toBe(1)
    expect(res.stderr).toContain('error[REF_NOT_FOUND]')
    expect(res.stderr).toContain('hint: Run `comfydock log`')
  })

  it('delete asks for confirmation without a TTY, then deletes with --yes and clears the active environment', () => {
    const refused = cli(['delete', 'h'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('error[CONFIRMATION_REQUIRED]')
    expect(existsSync(envRoot)).toBe(true)
    const res = cli(['delete', 'h', '--yes', '--json'])
    expect(res.code, res.stderr).toBe(0)
    expect(res.json()).toMatchObject({ deleted: 'h', active: null })
    expect(existsSync(envRoot)).toBe(false)
    expect(existsSync(join(ws, 'environments'))).toBe(true)
    expect(cli(['list', '--json']).json().environments).toEqual([])
    const missing = cli(['delete', 'h', '--yes'])
    expect(missing.stderr).toContain('error[ENV_NOT_FOUND]')
  })
})
