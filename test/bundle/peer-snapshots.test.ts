/**
 * Snapshots written by the real peer tools (test/fixtures/peers, made by scripts/peer-fixtures.mjs):
 * cm-cli 4.3 `save-snapshot` JSON and YAML, and a ComfyUI Desktop 2.0 export envelope. Each is imported
 * into a new environment in the world the file was made in (test/support/peer-world.ts): the same
 * ComfyUI commit, registry pack and git commits, pip pins installed into the venv.
 */
import { execFileSync } from 'node:child_process'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { importSnapshot, parseManagerSnapshot, readForeignSnapshot, SNAPSHOT_PIPS_GROUP } from '../../sidecar/bundle'
import { readManifest } from '../../sidecar/manifest'
import { runCliAsync } from '../support/cli'
import { DISABLED_PACK, FIXTURE_GITHUB, GIT_PACK, makePeerWorld, MODELS_PACK, REGISTRY_PACK, useWorldEnv, type PeerWorld } from '../support/peer-world'
import { makeTempDir } from '../support/temp-dir'
import { venvVersions } from '../support/venv'

const FIXTURES = resolve(import.meta.dirname, '..', 'fixtures', 'peers')
const MANAGER_JSON = join(FIXTURES, 'comfyui-manager-4.3', 'snapshot.json')
const MANAGER_YAML = join(FIXTURES, 'comfyui-manager-4.3', 'snapshot.yaml')
const DESKTOP = join(FIXTURES, 'comfyui-desktop-2', 'snapshot-export.json')

let world: PeerWorld
let restoreEnv: () => void

beforeAll(async () => {
  world = await makePeerWorld(makeTempDir('peer-snapshots'))
  restoreEnv = useWorldEnv(world)
}, 120_000)
afterAll(async () => { restoreEnv?.(); await world?.close() })


const git = (dir: string, args: string[]): string => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim()
// asked of the venv's own Python: uv makes venvs without pip
const pipList = (venv: string): Record<string, string> => venvVersions(venv)

describe('what cm-cli 4.3 writes', () => {
  it('reads the JSON and the YAML alike, including what the docs do not say', async () => {
    const json = await readForeignSnapshot(MANAGER_JSON)
    const yaml = await readForeignSnapshot(MANAGER_YAML)
    expect(yaml).toEqual(json)
    expect(json.comfyui).toBe(world.comfyui.tags['v0.3.7'])
    // cm-cli writes a detached HEAD's hash with its newline; the spec carries the bare commit.
    expect(json.packs.map(p => p.spec).sort()).toEqual([
      `${FIXTURE_GITHUB}${GIT_PACK}@${world.git[GIT_PACK].commits[0]}`,
      `${FIXTURE_GITHUB}${MODELS_PACK}.git@${world.git[MODELS_PACK].commits[0]}`,
      `${REGISTRY_PACK}@1.1.0`,
    ].sort())
    expect(json.notInstalled).toEqual(expect.arrayContaining([
      { item: `${FIXTURE_GITHUB}${DISABLED_PACK}`, reason: 'disabled in the snapshot' },
      expect.objectContaining({ item: 'loose_node.py' }),
    ]))
    expect(json.pips.map(p => p.text)).toContain('fixture-extra-pip==2.0')
    expect(json.unknown).toEqual([])
  })

  it('reports fields it does not understand instead of dropping them', () => {
    const snap = parseManagerSnapshot(JSON.stringify({ comfyui: 'abc', git_custom_nodes: { 'https://example.test/x': { hash: 'f'.repeat(40), disabled: false, channel: 'dev' } }, cnr_custom_nodes: {}, file_custom_nodes: [], pips: {}, extras: { a: 1 } }), 's.json')
    expect(snap.unknown).toEqual(['extras: {"a":1}', 'git_custom_nodes.https://example.test/x.channel: "dev"'])
  })

  it('imports the JSON snapshot: ComfyUI commit, registry and git packs, pips installed, the rest reported', async () => {
    const ws = await world.newWorkspace()
    const res = await importSnapshot(ws, MANAGER_JSON, { name: 'from-manager' })
    expect(res.nodes.failed).toEqual([])
    expect(res.ok).toBe(true)
    const env = ws.env('from-manager')
    const doc = await readManifest(env.pyproject)
    expect(doc.tool.comfydock.comfyui_commit_sha).toBe(world.comfyui.tags['v0.3.7'])
    const nodes = doc.tool.comfydock.nodes ?? {}
    expect(nodes[REGISTRY_PACK]).toMatchObject({ source: 'registry', version: '1.1.0' })
    expect(Object.values(nodes).filter(e => e.source === 'git').map(e => e.version).sort())
      .toEqual([world.git[GIT_PACK].commits[0], world.git[MODELS_PACK].commits[0]].sort())
    // Pips are pinned in the manifest and installed; torch stays machine-local.
    expect(doc['dependency-groups']?.[SNAPSHOT_PIPS_GROUP]).toEqual(['comfy-dep-a==1.1', 'comfy-dep-b==2.0', 'fixture-dep-git==1.0', 'fixture-dep-registry==1.0', 'fixture-extra-pip==2.0'])
    const installed = pipList(env.venv)
    expect(installed['fixture-extra-pip']).toBe('2.0')
    expect(installed.torch).toBeUndefined()
    expect(res.preview.not_installed).toEqual(expect.arrayContaining([
      { item: 'torch==2.5.1', reason: expect.stringContaining('machine-local') },
      { item: 'loose_node.py', reason: expect.stringContaining('loose file') },
      { item: `${FIXTURE_GITHUB}${DISABLED_PACK}`, reason: 'disabled in the snapshot' },
    ]))
    expect(git(env.cec, ['status', '--porcelain'])).toBe('')
    expect(git(env.cec, ['log', '--format=%s'])).toBe('Initial import from ComfyUI-Manager snapshot')
  }, 180_000)

  it('imports the YAML snapshot from the command line and says what it did not install', async () => {
    const ws = await world.newWorkspace()
    const res = await runCliAsync(['import', MANAGER_YAML, '--name', 'from-yaml', '--yes'], { workspace: ws.root })
    expect(res.code, res.stderr).toBe(0)
    expect(res.stdout).toContain('Import complete: from-yaml')
    expect(res.stdout).toContain('Custom nodes: 3/3 installed')
    expect(res.stdout).toContain('Pip packages: 5 pinned')
    expect(res.stderr + res.stdout).toContain('not installed: loose_node.py')
  }, 180_000)
})

describe('a ComfyUI Desktop 2.0 export', () => {
  it('reads the newest snapshot; torch stack and variant stay machine-local', async () => {
    const snap = await readForeignSnapshot(DESKTOP)
    expect(snap.format).toBe('comfyui-desktop-2')
    expect(snap.comfyui).toBe(world.comfyui.tags['v0.3.7'])
    expect(snap.python).toBe('3.11')
    expect(snap.packs.map(p => p.spec)).toContain(`${REGISTRY_PACK}@1.1.0`)
    expect(snap.notes.join('\n')).toMatch(/torch stack .* is machine-local/)
    expect(snap.notInstalled.map(i => i.item)).toEqual(expect.arrayContaining(['loose_node.py', `${FIXTURE_GITHUB}${DISABLED_PACK}`]))
  })

  it('imports it into a new environment with the same packs and pips', async () => {
    const ws = await world.newWorkspace()
    const res = await importSnapshot(ws, DESKTOP)
    expect(res.ok, JSON.stringify(res.nodes.failed)).toBe(true)
    expect(res.name).toBe('snapshot-export')
    const env = ws.env(res.name)
    const doc = await readManifest(env.pyproject)
    expect(doc.tool.comfydock.comfyui_commit_sha).toBe(world.comfyui.tags['v0.3.7'])
    expect(Object.keys(doc.tool.comfydock.nodes ?? {}).sort()).toEqual([GIT_PACK, MODELS_PACK, REGISTRY_PACK].sort())
    expect(pipList(env.venv)['fixture-extra-pip']).toBe('2.0')
    expect(git(env.cec, ['log', '--format=%s'])).toBe('Initial import from ComfyUI Desktop 2.0 snapshot')
  }, 180_000)

  it('refuses an envelope version it does not know, saying so', async () => {
    const { desktopSnapshotFromData } = await import('../../sidecar/bundle/desktop-snapshot')
    expect(() => desktopSnapshotFromData({ type: 'comfyui-desktop-2-snapshot', version: 3, snapshots: [] }, 'x.json')).toThrow(/envelope version 3 is not one comfydock reads/)
  })
})
