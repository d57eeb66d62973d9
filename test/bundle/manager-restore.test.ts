/**
 * `export --format comfyui-manager-snapshot` read by the real ComfyUI-Manager: cm-cli 4.3 (from PyPI, into
 * a scratch venv cached in .peers/) runs `restore-snapshot` on what we wrote, into a fresh ComfyUI of the
 * peer world, and ends with the same packs at the same versions and the venv's packages installed.
 */
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { importSnapshot } from '../../sidecar/bundle'
import { runCliAsync } from '../support/cli'
import { startStandIn, type StandIn } from '../support/https-stand-in'
import { CM_CLI_MAIN, peerVenv, TORCHVISION_DOWNLOAD } from '../support/peer-tools'
import { COMFYUI_GITHUB, GIT_PACK, makePeerWorld, MODELS_PACK, REGISTRY_PACK, useWorldEnv, type PeerWorld } from '../support/peer-world'
import { makeTempDir } from '../support/temp-dir'
import { venvVersions } from '../support/venv'
import { buildWheel } from '../support/wheels'

const FIXTURES = resolve(import.meta.dirname, '..', 'fixtures', 'peers')

let world: PeerWorld
let standIn: StandIn
let restoreEnv: () => void
let root: string

beforeAll(async () => {
  root = makeTempDir('manager-restore')
  world = await makePeerWorld(join(root, 'world'))
  restoreEnv = useWorldEnv(world)
  standIn = await startStandIn({ dir: root, wheels: world.findLinks, registryUrl: world.registry.url, comfyuiTags: world.comfyui.tags })
}, 240_000)
afterAll(async () => { restoreEnv?.(); await standIn?.stop(); await world?.close() })

function run (cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<{ code: number, out: string }> {
  return new Promise(resolve => {
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (c: Buffer) => { out += c.toString() })
    child.stderr.on('data', (c: Buffer) => { out += c.toString() })
    child.on('close', code => resolve({ code: code ?? 1, out }))
  })
}

describe('cm-cli 4.3 on our environment', () => {
  it('lists the registry pack we installed under cnr_custom_nodes with its version (our .tracking), and our status stays clean', async () => {
    const mgr = peerVenv('mgr')
    const ws = await world.newWorkspace()
    const imported = await importSnapshot(ws, join(FIXTURES, 'comfyui-manager-4.3', 'snapshot.json'), { name: 'ours' })
    expect(imported.ok).toBe(true)
    const env = ws.env('ours')
    const pack = readdirSync(env.customNodes).find(d => existsSync(join(env.customNodes, d, 'pyproject.toml')) && readFileSync(join(env.customNodes, d, 'pyproject.toml'), 'utf8').includes(`name = "${REGISTRY_PACK}"`))
    expect(pack).toBeDefined()
    // ComfyUI-Manager's own format: the archive's entry names, one a line
    expect(readFileSync(join(env.customNodes, pack!, '.tracking'), 'utf8').split('\n')).toEqual(expect.arrayContaining(['__init__.py', 'pyproject.toml', 'requirements.txt']))

    // cm-cli run as ComfyUI-Manager runs: inside the environment's venv, from custom_nodes
    const out = join(root, 'ours-by-cm-cli.json')
    const res = await run(join(env.venv, 'bin', 'python'), ['-c', CM_CLI_MAIN, 'save-snapshot', '--output', out], {
      ...process.env, ...world.gitEnv, ...standIn.env, COMFYUI_PATH: env.comfyui, CM_CLI_SITE: mgr.sitePackages,
    }, env.customNodes)
    expect(res.code, res.out).toBe(0)
    const snap = JSON.parse(readFileSync(out, 'utf8')) as { cnr_custom_nodes: Record<string, string>, git_custom_nodes: Record<string, unknown> }
    expect(snap.cnr_custom_nodes).toEqual({ [REGISTRY_PACK]: '1.1.0' })
    expect(Object.keys(snap.git_custom_nodes).some(u => u.includes(REGISTRY_PACK))).toBe(false)

    // the .tracking file (and whatever cm-cli wrote) is not a change to our status
    const status = await runCliAsync(['-e', 'ours', 'status', '--json'], { workspace: ws.root })
    const sections = status.json().sections as Record<string, { ok: boolean, summary: string }>
    expect(sections.nodes, status.stdout).toMatchObject({ ok: true })
    expect(sections.repair, status.stdout).toMatchObject({ ok: true })
    const repair = await runCliAsync(['-e', 'ours', 'repair', '--dry-run', '--json'], { workspace: ws.root })
    expect(repair.json().plan.nodes, repair.stdout).toMatchObject({ missing: [], mismatched: [], extra: [] })
  }, 600_000)
})

describe('a ComfyUI-Manager snapshot we export', () => {
  it('is restored by the real cm-cli 4.3 into the same packs and packages', async () => {
    const mgr = peerVenv('mgr')
    const ws = await world.newWorkspace()
    const imported = await importSnapshot(ws, join(FIXTURES, 'comfyui-manager-4.3', 'snapshot.json'), { name: 'shared' })
    expect(imported.ok).toBe(true)
    const snap = join(root, 'shared.json')
    const exp = await runCliAsync(['-e', 'shared', 'export', snap, '--format', 'comfyui-manager-snapshot', '--json'], { workspace: ws.root })
    expect(exp.code, exp.stderr).toBe(0)

    // Someone without comfydock: a ComfyUI clone with its own venv, and cm-cli
    const target = join(root, 'theirs', 'ComfyUI')
    const gitEnv = { ...process.env, ...world.gitEnv }
    execFileSync('git', ['clone', '-q', `${COMFYUI_GITHUB}.git`, target], { env: gitEnv })
    execFileSync('python3', ['-m', 'venv', join(target, 'venv')])
    const py = join(target, 'venv', 'bin', 'python')
    const nodes = join(target, 'custom_nodes')
    mkdirSync(nodes, { recursive: true })
    // A ComfyUI venv has torchvision, whose download_url ComfyUI-Manager borrows for registry archives.
    const shims = join(root, 'shims')
    await buildWheel(shims, { name: 'torchvision', version: '0.20.1', files: { 'datasets/__init__.py': '', 'datasets/utils.py': TORCHVISION_DOWNLOAD } })
    execFileSync(py, ['-m', 'pip', 'install', '-q', '--no-index', '--find-links', shims, 'torchvision==0.20.1'])
    const restore = () => run(py, ['-c', CM_CLI_MAIN, 'restore-snapshot', snap, '--pip-non-url'], {
      ...gitEnv, ...standIn.env, COMFYUI_PATH: target, CM_CLI_SITE: mgr.sitePackages,
      PIP_NO_INDEX: '1', PIP_FIND_LINKS: world.findLinks, PIP_DISABLE_PIP_VERSION_CHECK: '1',
    }, nodes)
    // cm-cli 4.3 clones a git pack it does not have at its newest commit; a second restore checks out the
    // snapshot's commit, finding the pack by its folder name relative to the working directory (hence
    // cwd custom_nodes). Its own behaviour, the same for a snapshot cm-cli wrote.
    for (let i = 0; i < 2; i++) {
      const res = await restore()
      expect(res.code, res.out).toBe(0)
      expect(res.out).not.toContain('Failed to restore')
    }
    const head = (d: string) => execFileSync('git', ['-C', d, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim()
    expect(head(join(nodes, GIT_PACK))).toBe(world.git[GIT_PACK].commits[0])
    expect(head(join(nodes, MODELS_PACK))).toBe(world.git[MODELS_PACK].commits[0])
    expect(readFileSync(join(nodes, REGISTRY_PACK, 'pyproject.toml'), 'utf8')).toContain('version = "1.1.0"')
    expect(existsSync(join(nodes, REGISTRY_PACK, '.tracking'))).toBe(true)
    // Every pin of the environment's venv (installers aside, as pip freeze does), now in theirs.
    const pins = Object.keys(JSON.parse(readFileSync(snap, 'utf8')).pips as Record<string, string>)
    expect(pins).toEqual(expect.arrayContaining(['fixture-extra-pip==2.0', 'fixture-dep-git==1.0', 'comfy-dep-b==2.0']))
    expect(pins.filter(p => /^(pip|setuptools|wheel)==/.test(p))).toEqual([])
    const theirs = venvVersions(join(target, 'venv'))
    for (const pin of pins.filter(p => !p.startsWith('torch'))) {
      const [name, version] = pin.split('==')
      expect(theirs[name.toLowerCase().replace(/[_.]/g, '-')], pin).toBe(version)
    }
  }, 600_000)
})
