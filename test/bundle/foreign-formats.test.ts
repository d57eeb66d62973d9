import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { importBundle, parseManagerSnapshot } from '../../sidecar/bundle'
import { readManifest } from '../../sidecar/manifest'
import { makeTempDir } from '../support/temp-dir'
import { runCliAsync } from '../support/cli'
import { CORPUS } from './support/env-on-disk'
import { makeWorld, type World } from './support/world'

let world: World

const git = (dir: string, args: string[]): string => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim()

beforeAll(async () => {
  world = await makeWorld(makeTempDir('foreign-world'))
}, 240_000)
afterAll(async () => { await world?.close() })

/** A bundle as the original Python tool 1.0.x writes it (research/original-comfydock.md 7.4): flat, no manifest.json. */
function originalToolBundle (dir: string): string {
  const stage = join(dir, 'stage')
  mkdirSync(join(stage, 'workflows'), { recursive: true })
  mkdirSync(join(stage, 'dev_nodes', 'my-dev-node'), { recursive: true })
  writeFileSync(join(stage, 'pyproject.toml'), `[project]
name = "comfydock-env-old"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["comfy-dep-a>=1.1", "comfy-dep-b"]

[tool.comfydock]
comfyui_version = "v0.3.7"
comfyui_version_type = "release"
python_version = "3.11"
torch_backend = "auto"

[tool.comfydock.nodes.comfyui-impact-pack]
name = "ComfyUI-Impact-Pack"
registry_id = "comfyui-impact-pack"
repository = "https://github.com/ltdrdata/ComfyUI-Impact-Pack"
version = "8.1.0"
download_url = "${world.registry.url}/files/comfyui-impact-pack/8.1.0/node.zip"
source = "registry"

[tool.comfydock.nodes.my-git-pack]
name = "my-git-pack"
repository = "${world.gitPack.fileUrl}"
version = "${world.gitPack.commits[0]}"
source = "git"

[tool.comfydock.nodes.my-dev-node]
name = "my-dev-node"
version = "dev"
source = "development"

[tool.comfydock.workflows.default]
path = "workflows/default.json"
nodes = []
`)
  writeFileSync(join(stage, 'uv.lock'), 'version = 1\nrequires-python = ">=3.11"\n')
  writeFileSync(join(stage, '.python-version'), '3.11\n')
  copyFileSync(join(CORPUS, 'workflows', 'default.json'), join(stage, 'workflows', 'default.json'))
  writeFileSync(join(stage, 'dev_nodes', 'my-dev-node', '__init__.py'), 'NODE_CLASS_MAPPINGS = {}\n')
  const file = join(dir, 'old_export.tar.gz')
  execFileSync('tar', ['czf', file, '-C', stage, 'pyproject.toml', 'uv.lock', '.python-version', 'workflows', 'dev_nodes'])
  return file
}

describe('bundles of the original tool (1.0.x)', () => {
  it('imports the flat layout without manifest.json: packs, dev node, workflows, and says it resolved Python afresh', async () => {
    const dir = makeTempDir('legacy')
    const ws = await world.newWorkspace('ws-legacy')
    const res = await importBundle(ws, originalToolBundle(dir), { models: 'skip' })
    expect(res.name).toBe('old')
    expect(res.preview.kind).toBe('legacy')
    expect(res.preview.source.comfydock_version).toBe('original (1.0.x)')
    expect(res.nodes.installed.sort()).toEqual(['comfyui-impact-pack', 'my-git-pack'])
    const env = ws.env('old')
    expect(readFileSync(join(env.customNodes, 'ComfyUI-Impact-Pack', '__init__.py'), 'utf8')).toBe('V = "8.1.0"\n')
    expect(readFileSync(join(env.customNodes, 'my-dev-node', '__init__.py'), 'utf8')).toBe('NODE_CLASS_MAPPINGS = {}\n')
    expect(readFileSync(join(env.userWorkflows, 'default.json')).equals(readFileSync(join(CORPUS, 'workflows', 'default.json')))).toBe(true)
    // its uv.lock pins the exporter's machine (torch wheels included): the requirements are resolved afresh, and it says so
    expect(res.python.lock).not.toBe('kept')
    expect(res.python.note).toMatch(/no lock to install from/)
    expect(readFileSync(join(env.cec, 'requirements.lock.txt'), 'utf8')).toMatch(/^# requirements-digest: /m)
    const doc = await readManifest(env.pyproject)
    expect(doc.tool.comfydock.comfyui_commit_sha).toBe(world.comfyui.tags['v0.3.7'])
    expect(doc.tool.comfydock.nodes?.['my-git-pack']?.version).toBe(world.gitPack.commits[0])
    expect(git(env.cec, ['log', '--format=%s'])).toBe('Initial import from bundle')
  })
})

describe('ComfyUI-Manager snapshots', () => {
  it('reads JSON and the YAML form wrapped in custom_nodes', () => {
    const json = parseManagerSnapshot(JSON.stringify({
      comfyui: 'abc123',
      git_custom_nodes: { 'https://github.com/kijai/ComfyUI-KJNodes': { hash: 'f'.repeat(40), disabled: false }, 'https://github.com/x/off': { hash: '1', disabled: true } },
      cnr_custom_nodes: { 'comfyui-impact-pack': '8.8.1' },
      file_custom_nodes: [{ filename: 'loose.py', disabled: false }],
      pips: { 'numpy==1.26.4': '', mypkg: 'git+https://example.test/mypkg@abc' },
    }), 'snap.json')
    expect(json.packs.map(p => p.spec)).toEqual(['comfyui-impact-pack@8.8.1', `https://github.com/kijai/ComfyUI-KJNodes@${'f'.repeat(40)}`])
    expect(json.notInstalled).toEqual([
      { item: 'https://github.com/x/off', reason: 'disabled in the snapshot' },
      { item: 'loose.py', reason: expect.stringContaining('loose file') },
    ])
    expect(json.pips.map(p => p.text)).toEqual(['mypkg @ git+https://example.test/mypkg@abc', 'numpy==1.26.4'])
    const yaml = parseManagerSnapshot('custom_nodes:\n  comfyui: abc123\n  cnr_custom_nodes:\n    comfyui-impact-pack: 8.8.1\n  git_custom_nodes: {}\n  file_custom_nodes: []\n  pips: null\n', 'snap.yaml')
    expect(yaml).toMatchObject({ comfyui: 'abc123', packs: [{ spec: 'comfyui-impact-pack@8.8.1' }], pips: [] })
  })

  it('refuses a JSON file that is not a snapshot', () => {
    expect(() => parseManagerSnapshot('{"nodes": []}', 'workflow.json')).toThrow(/workflow.json is not a ComfyUI-Manager snapshot/)
  })

  it('imports a snapshot into a new environment at its ComfyUI commit with its registry and git packs', async () => {
    const ws = await world.newWorkspace('ws-snapshot')
    const file = join(world.root, 'my-setup.json')
    writeFileSync(file, JSON.stringify({
      comfyui: world.comfyui.tags['v0.3.7'],
      git_custom_nodes: {
        [world.gitPack.fileUrl]: { hash: world.gitPack.commits[0], disabled: false },
        'https://github.com/x/disabled-pack': { hash: 'a'.repeat(40), disabled: true },
      },
      cnr_custom_nodes: { 'comfyui-impact-pack': '8.1.0', 'no-such-pack': '1.0.0' },
      file_custom_nodes: [{ filename: 'loose.py', disabled: false }],
      pips: { 'numpy==1.26.4': '' },
    }))
    const res = await runCliAsync(['import', file, '--yes'], { workspace: ws.root })
    // The environment is made, but a pack failed: exit 1 so scripts notice.
    expect(res.code, res.stderr).toBe(1)
    expect(res.stderr).toContain('not installed: https://github.com/x/disabled-pack (disabled in the snapshot)')
    expect(res.stderr).toContain('not installed: loose.py')
    // numpy is not in the offline wheel folder: the pins are left out and the import says why.
    expect(res.stdout).toContain('Pip packages: none pinned')
    expect(res.stderr).toMatch(/pip pins left out: .*numpy/)
    expect(res.stdout).toContain('Import finished with problems: my-setup')
    expect(res.stdout).toContain('Custom nodes: 2/3 installed')
    expect(res.stdout).toContain('✗ no-such-pack@1.0.0')
    const env = ws.env('my-setup')
    const doc = await readManifest(env.pyproject)
    expect(doc.tool.comfydock.comfyui_commit_sha).toBe(world.comfyui.tags['v0.3.7'])
    expect(doc.tool.comfydock.nodes?.['comfyui-impact-pack']).toMatchObject({ version: '8.1.0', source: 'registry' })
    expect(doc.tool.comfydock.nodes?.['my-git-pack']).toMatchObject({ version: world.gitPack.commits[0], source: 'git' })
    expect(git(env.cec, ['log', '--format=%s'])).toBe('Initial import from ComfyUI-Manager snapshot')
    expect(git(env.cec, ['status', '--porcelain'])).toBe('')
  })
})
