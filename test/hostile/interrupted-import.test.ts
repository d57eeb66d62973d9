/**
 * Crash safety of import (finding 8): an import killed midway left an empty environment folder that
 * `list` did not show but that blocked the name (the rerun silently became `e-1`, `e-2`, …), and its
 * temp folders were never removed. Here the built CLI is killed with SIGKILL while it builds the
 * environment, then the same command runs again.
 */
import { spawn, execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { Workspace } from '../../sidecar/workspace'
import { CLI, runCliAsync } from '../support/cli'
import { makeComfyuiRepo, type ComfyuiRepo } from '../support/comfyui-repo'
import { makeTempDir } from '../support/temp-dir'
import { PROJECT, bundleManifest, writeBundle } from './support/hostile-env'

let root: string
let comfyui: ComfyuiRepo
let bundle: string

beforeAll(async () => {
  root = makeTempDir('interrupted')
  comfyui = await makeComfyuiRepo(join(root, 'comfyui-src'))
  bundle = writeBundle(join(root, 'e.tar.gz'), {
    'manifest.json': JSON.stringify(bundleManifest('e', ['w.json'])),
    'pyproject.toml': `${PROJECT}\n[tool.comfydock]\nschema_version = 1\ncomfyui_version = "v0.3.7"\ncomfyui_version_type = "release"\n`,
    'workflows/w.json': JSON.stringify({ nodes: [], links: [] }),
  })
}, 240_000)

async function workspace (name: string): Promise<{ ws: Workspace, tmp: string }> {
  const base = join(root, name)
  const tmp = join(base, 'tmp')
  mkdirSync(tmp, { recursive: true })
  const { workspace: ws } = await Workspace.init(join(base, 'ws'))
  await ws.setConfig('comfyui_source', comfyui.url)
  return { ws, tmp }
}

/** Starts `import`, waits until the environment is half-built, then kills the CLI with SIGKILL. */
async function killMidway (ws: Workspace, tmp: string): Promise<void> {
  const envs = join(ws.root, 'environments')
  const child = spawn(process.execPath, [CLI, '--workspace', ws.root, 'import', bundle, '--yes'], { env: { ...process.env, TMPDIR: tmp }, stdio: 'ignore' })
  const exited = new Promise<void>(resolve => child.on('exit', () => resolve()))
  const halfBuilt = (): boolean => existsSync(envs) && readdirSync(envs).some(d => existsSync(join(envs, d, '.cec', 'pyproject.toml')) && !existsSync(join(envs, d, '.cec', '.complete')))
  const deadline = Date.now() + 60_000
  while (!halfBuilt()) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error('the import ended before it could be killed midway')
    await new Promise(resolve => setTimeout(resolve, 5))
  }
  child.kill('SIGKILL')
  await exited
}

describe('an import killed midway', () => {
  it('leaves no environment under its name; the rerun removes the leftovers and completes under the same name', async () => {
    const { ws, tmp } = await workspace('killed')
    await killMidway(ws, tmp)
    const envs = join(ws.root, 'environments')
    expect(readdirSync(envs).length).toBeGreaterThan(0) // the killed run left its half-built work behind

    const listed = await runCliAsync(['list', '--json'], { workspace: ws.root })
    expect(listed.json().environments).toEqual([])
    expect(readdirSync(envs).filter(d => !d.startsWith('.'))).toEqual([]) // `list` and the name check agree

    const rerun = await runCliAsync(['import', bundle, '--yes', '--json'], { workspace: ws.root, env: { TMPDIR: tmp } })
    expect(rerun.code, rerun.stderr).toBe(0)
    expect(rerun.json().name).toBe('e')
    expect(readdirSync(envs)).toEqual(['e']) // the killed run's work folders are gone
    expect(readdirSync(tmp).filter(n => !n.startsWith('uv-'))).toEqual([]) // uv keeps its own lock file there
    const after = await runCliAsync(['list', '--json'], { workspace: ws.root })
    expect(after.json().environments.map((e: { name: string, complete: boolean }) => [e.name, e.complete])).toEqual([['e', true]])
    // nothing in the environment still names the folder it was built in
    const stale = (() => { try { return execFileSync('grep', ['-rlF', '.creating-', join(envs, 'e')], { encoding: 'utf8' }) } catch { return '' } })()
    expect(stale).toBe('')
    const status = await runCliAsync(['-e', 'e', 'status', '--json'], { workspace: ws.root })
    expect(status.json().complete).toBe(true)
  }, 180_000)

  it('reports a half-made folder an older version left: listed as incomplete, its name refused with the fix, delete removes it', async () => {
    const { ws } = await workspace('old-leftover')
    mkdirSync(join(ws.root, 'environments', 'e'), { recursive: true })
    const listed = await runCliAsync(['list', '--json'], { workspace: ws.root })
    expect(listed.json().environments).toMatchObject([{ name: 'e', complete: false }])
    const imp = await runCliAsync(['import', bundle, '--yes', '--json'], { workspace: ws.root })
    expect(imp.code).toBe(1)
    expect(imp.json().error).toMatchObject({ code: 'ENV_INCOMPLETE', hint: expect.stringContaining('comfydock delete e') })
    expect(readdirSync(join(ws.root, 'environments'))).toEqual(['e']) // no e-1 made behind the user's back
    const del = await runCliAsync(['delete', 'e', '--yes', '--json'], { workspace: ws.root })
    expect(del.code, del.stderr).toBe(0)
    expect(readdirSync(join(ws.root, 'environments'))).toEqual([])
  }, 60_000)
})
