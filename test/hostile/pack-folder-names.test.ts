/**
 * Attack family: a pack folder name that leaves custom_nodes (finding 2). A pack's
 * `name = "../../../../../victim"` was joined onto custom_nodes/, that path deleted and the pack moved
 * there, by import, repair (install-missing), node remove and node update. Each command runs through the
 * real CLI against a loopback registry serving the pack; the victim folder sits next to the workspace.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Workspace, envPaths, packDir } from '../../sidecar/workspace'
import { runCliAsync } from '../support/cli'
import { makeComfyuiRepo, type ComfyuiRepo } from '../support/comfyui-repo'
import { startRegistryServer, type RegistryServer } from '../support/registry-server'
import { makeTempDir } from '../support/temp-dir'
import { PROJECT, bundleManifest, envOnDisk, makeVictim, writeBundle } from './support/hostile-env'

let root: string
let registry: RegistryServer
let comfyui: ComfyuiRepo

beforeAll(async () => {
  root = makeTempDir('pack-names')
  comfyui = await makeComfyuiRepo(join(root, 'comfyui-src'))
  registry = await startRegistryServer([
    { id: 'x', versions: [{ version: '1.0.0', files: { '__init__.py': 'V = 1\n' } }, { version: '2.0.0', files: { '__init__.py': 'V = 2\n' } }] },
  ])
}, 240_000)
afterAll(async () => { await registry?.stop() })

/** A workspace in its own folder; "../../../../../victim" from its custom_nodes lands next to it. */
async function setup (name: string): Promise<{ ws: Workspace, victim: ReturnType<typeof makeVictim>, fresh: string }> {
  const base = join(root, name)
  const { workspace: ws } = await Workspace.init(join(base, 'ws'))
  await ws.setConfig('comfyui_source', comfyui.url)
  await ws.setConfig('registry_url', registry.url)
  const victim = makeVictim(join(base, 'victim'))
  // a version file makes the folder look like an outdated install of the pack, so repair would replace it
  writeFileSync(join(victim.path, 'pyproject.toml'), '[project]\nname = "victim"\nversion = "0.0.1"\n')
  return { ws, victim, fresh: join(base, 'created-by-attack') }
}

const packEntry = (folder: string): string => `
[tool.comfydock.nodes.x]
name = "${folder}"
registry_id = "x"
version = "1.0.0"
download_url = "${'REGISTRY'}/files/x/1.0.0/node.zip"
source = "registry"
`

function manifest (folder: string): string {
  return `${PROJECT}\n[tool.comfydock]\nschema_version = 1\ncomfyui_version = "v0.3.7"\ncomfyui_version_type = "release"\npython_version = "3.11"\n${packEntry(folder).replace('REGISTRY', registry.url)}`
}

function expectUntouched (victim: ReturnType<typeof makeVictim>, fresh: string): void {
  expect(readFileSync(victim.file, 'utf8')).toBe(victim.text)
  expect(existsSync(join(victim.path, '__init__.py'))).toBe(false)
  expect(existsSync(fresh)).toBe(false)
}

function expectRefused (res: { code: number, stdout: string, stderr: string }): void {
  expect(res.code).not.toBe(0)
  // batch commands list each item's error on stdout; others print the error on stderr
  const out = res.stdout + res.stderr
  expect(out).toMatch(/tool\.comfydock\.nodes\.x\.name: "\.\.\/\.\.\/\.\.\/\.\.\/\.\.\/(victim|created-by-attack)" is not a safe pack folder name/)
  expect(out).not.toMatch(/\n\s+at /)
}

const cli = (ws: Workspace, args: string[]) => runCliAsync(['-e', 'e', ...args, '--yes'], { workspace: ws.root })

describe('a pack folder name that climbs out of custom_nodes', () => {
  it('import refuses the bundle; nothing outside the workspace changes and no environment is made', async () => {
    const { ws, victim, fresh } = await setup('import')
    const bundle = writeBundle(join(root, 'evil-pack.tar.gz'), {
      'manifest.json': JSON.stringify(bundleManifest('evil')),
      'pyproject.toml': manifest('../../../../../victim'),
      '.python-version': '3.11\n',
    })
    const res = await runCliAsync(['import', bundle, '--yes', '--models', 'skip'], { workspace: ws.root })
    expectUntouched(victim, fresh)
    expect(existsSync(join(ws.root, 'environments', 'evil'))).toBe(false)
    expectRefused(res)
    expect(res.stderr).toContain('BUNDLE_CORRUPT')
  })

  it.each([
    ['node remove', ['node', 'remove', 'x']],
    ['node update', ['node', 'update', 'x']],
    ['repair (installs missing and mismatched packs)', ['repair']],
    ['status', ['status']],
  ])('%s refuses the manifest and touches nothing outside', async (_what, args) => {
    const { ws, victim, fresh } = await setup(args.join('-'))
    envOnDisk(ws.root, 'e', manifest('../../../../../victim'))
    const res = await cli(ws, args)
    expectUntouched(victim, fresh)
    expectRefused(res)
  })

  it('repair does not create a folder outside custom_nodes for a pack that is not there yet', async () => {
    const { ws, victim, fresh } = await setup('repair-fresh')
    envOnDisk(ws.root, 'e', manifest('../../../../../created-by-attack'))
    const res = await cli(ws, ['repair'])
    expectUntouched(victim, fresh)
    expectRefused(res)
  })

  it('packDir checks the name again where it becomes a path', () => {
    const env = envPaths(root, 'e')
    for (const bad of ['../../../../../victim', '..', '/etc', 'a/b', 'a\\b', 'C:x', 'nul', 'x\0y', '']) {
      expect(() => packDir(env, bad)).toThrow(expect.objectContaining({ code: 'UNSAFE_PATH' }))
    }
    expect(packDir(env, 'ComfyUI-Impact-Pack')).toBe(join(env.customNodes, 'ComfyUI-Impact-Pack'))
  })
})
