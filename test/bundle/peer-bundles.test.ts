/**
 * A bundle written by the real comfydock-cli 1.0.11 (`cfd export`, test/fixtures/peers, made by
 * scripts/peer-fixtures.mjs): imported in the world it was made in. What the real file holds and the
 * notes did not say: git packs pinned by the tag the user asked for (not a commit) with the URL as cloned
 * (`.git`), no ComfyUI commit (only `comfyui_version`), torch pins in `[tool.uv]` constraint-dependencies,
 * and per-pack dependency groups named `<slug>-<hash>`.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { importBundle } from '../../sidecar/bundle'
import { readManifest } from '../../sidecar/manifest'
import { syncIndex } from '../../sidecar/models'
import { GIT_PACK, makePeerWorld, REGISTRY_PACK, useWorldEnv, type PeerWorld } from '../support/peer-world'
import { makeTempDir } from '../support/temp-dir'

const FIXTURES = resolve(import.meta.dirname, '..', 'fixtures', 'peers')
const BUNDLE = join(FIXTURES, 'comfydock-cli-1.0.11', 'fixture_export.tar.gz')
const CG_EXPORT = join(FIXTURES, 'comfygit-0.7.1', 'fixture_export.tar.gz')
const CG_REPO = join(FIXTURES, 'comfygit-0.7.1', 'environment.bundle')

let world: PeerWorld
let restoreEnv: () => void
beforeAll(async () => {
  world = await makePeerWorld(makeTempDir('peer-bundles'))
  restoreEnv = useWorldEnv(world)
}, 120_000)
afterAll(async () => { restoreEnv?.(); await world?.close() })

describe('a comfydock-cli 1.0.11 bundle', () => {
  it('imports: ComfyUI at its release, registry, git and development packs, the lock, workflows; models found by the same hash', async () => {
    const ws = await world.newWorkspace()
    world.writeModels(ws.modelsDir)
    await syncIndex(ws)
    const res = await importBundle(ws, BUNDLE, { models: 'skip' })
    expect(res.nodes.failed).toEqual([])
    expect(res.ok).toBe(true)
    expect(res.preview.kind).toBe('legacy')
    expect(res.name).toBe('fixture')
    // The original tool's short hash is ours: both models are found locally, nothing to download.
    expect(res.models.local.sort()).toEqual(['fixture_base.safetensors', 'fixture_detail.safetensors'])
    const env = ws.env('fixture')
    const doc = await readManifest(env.pyproject)
    const c = doc.tool.comfydock
    // The exporter's torch pins are machine-local: dropped, and said so.
    expect(JSON.stringify(doc.tool.uv ?? {})).not.toContain('torch')
    expect(c.comfyui_commit_sha).toBe(world.comfyui.tags['v0.3.7'])
    expect(c.nodes?.[REGISTRY_PACK]).toMatchObject({ source: 'registry', version: '1.1.0' })
    expect(c.nodes?.[GIT_PACK]).toMatchObject({ source: 'git', version: world.git[GIT_PACK].commits[0], ref: 'v1.0.0' })
    expect(execFileSync('git', ['-C', join(env.customNodes, GIT_PACK), 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim()).toBe(world.git[GIT_PACK].commits[0])
    expect(readFileSync(join(env.customNodes, 'my-dev-node', '__init__.py'), 'utf8')).toContain('MyDevNode')
    // the environment's own lock (the bundle's pins the exporter's machine): requirements.lock.txt, and uv.lock where uv runs
    expect(readFileSync(join(env.cec, 'requirements.lock.txt'), 'utf8')).toMatch(/^# requirements-digest: /m)
    if (res.python.backend === 'uv') expect(readFileSync(env.uvLock, 'utf8')).toContain('[[package]]')
    expect(readFileSync(join(env.userWorkflows, 'portrait.json'), 'utf8')).toContain('FixtureRegistryNode')
  }, 240_000)
})

/**
 * ComfyGit 0.7.1: `cg export` and the environment's own repository (a clone of it, as a folder). What the
 * real files hold: `[tool.comfygit]` schema 2 at the repository root, model hashes that are xxh3 (not
 * comfydock's), no development node sources in the export, and a uv.lock ComfyGit itself git-ignores.
 */
describe('a ComfyGit 0.7.1 environment', () => {
  async function expectImported (source: string, name: string): Promise<void> {
    const ws = await world.newWorkspace()
    world.writeModels(ws.modelsDir)
    await syncIndex(ws)
    const notes: string[] = []
    const res = await importBundle(ws, source, { name, models: 'skip', onProgress: e => { if (e.phase === 'note' && e.message) notes.push(e.message) } })
    expect(res.preview.kind).toBe('comfygit')
    // ComfyGit ships no development node sources: that one pack is reported, everything else installs.
    expect(res.nodes.failed.map(f => f.id)).toEqual(['my-dev-node'])
    expect(res.nodes.installed.sort()).toEqual([GIT_PACK, REGISTRY_PACK].sort())
    expect(notes.join('\n')).toMatch(/ComfyGit's xxh3 hashes/)
    const env = ws.env(name)
    const doc = await readManifest(env.pyproject)
    expect(doc.tool.comfygit).toBeUndefined()
    const c = doc.tool.comfydock
    expect(c.comfyui_commit_sha).toBe(world.comfyui.tags['v0.3.7'])
    expect(c.nodes?.[REGISTRY_PACK]).toMatchObject({ source: 'registry', version: '1.1.0' })
    expect(c.nodes?.[GIT_PACK]).toMatchObject({ source: 'git', version: world.git[GIT_PACK].commits[0] })
    expect(c.workflows?.portrait?.models?.map(m => [m.filename, m.category, m.status, m.sources?.length])).toEqual([
      ['fixture_base.safetensors', 'checkpoints', 'unresolved', 1],
      ['fixture_detail.safetensors', 'loras', 'unresolved', 1],
    ])
    expect(readFileSync(join(env.userWorkflows, 'portrait.json'), 'utf8')).toContain('FixtureRegistryNode')
  }

  it('imports its `cg export` tarball', async () => {
    await expectImported(CG_EXPORT, 'from-cg-export')
  }, 240_000)

  it('imports its repository, cloned into a folder', async () => {
    const dir = join(makeTempDir('cg-clone'), 'fixture')
    execFileSync('git', ['clone', '-q', CG_REPO, dir])
    await expectImported(dir, 'from-cg-repo')
  }, 240_000)
})
