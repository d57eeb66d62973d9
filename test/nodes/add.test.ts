import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readManifest, writeManifest } from '../../sidecar/manifest'
import { addNodes } from '../../sidecar/nodes'
import { makeGitRepo, startGitDaemon, startGitHttpServer, type GitDaemon, type GitRepo } from '../support/git-repos'
import { startRegistryServer, type RegistryServer } from '../support/registry-server'
import { makeTempDir } from '../support/temp-dir'
import { makeWorkspaceWithEnv } from './env-fixture'

let server: RegistryServer
let daemon: GitDaemon
let repo: GitRepo
const repos = makeTempDir('repos')

beforeAll(async () => {
  server = await startRegistryServer([
    { id: 'comfyui-impact-pack', repository: 'https://github.com/ltdrdata/ComfyUI-Impact-Pack', versions: [
      { version: '8.0.0', files: { '__init__.py': 'V = "8.0.0"\n', 'requirements.txt': 'segment-anything\n--extra-index-url https://x\nscipy>1\n' } },
      { version: '8.1.0', files: { '__init__.py': 'V = "8.1.0"\n', 'requirements.txt': 'segment-anything\n' } },
    ] },
  ])
  repo = makeGitRepo(join(repos, 'my-git-pack'), [
    { files: { '__init__.py': 'V = 1\n' }, tag: 'v1.0' },
    { files: { '__init__.py': 'V = 2\n', 'pyproject.toml': '[project]\nname = "my-git-pack"\ndependencies = ["piexif>=1.1"]\n' } },
  ])
  daemon = await startGitDaemon(repos)
})
afterAll(async () => {
  await server?.stop()
  await daemon?.stop()
})

async function setup () {
  return makeWorkspaceWithEnv({}, { registry_url: server.url })
}

describe('node add', () => {
  it('installs a registry pack at the latest version and pins version, url and sha256', async () => {
    const { ws, env } = await setup()
    const out = await addNodes(ws, env, ['comfyui-impact-pack'], { syncPython: false })
    expect(out.results[0]).toMatchObject({ ok: true, id: 'comfyui-impact-pack', cached: false })
    const doc = await readManifest(env.pyproject)
    expect(doc.tool.comfydock.nodes!['comfyui-impact-pack']).toEqual({
      name: 'ComfyUI-Impact-Pack', registry_id: 'comfyui-impact-pack', repository: 'https://github.com/ltdrdata/ComfyUI-Impact-Pack',
      version: '8.1.0', source: 'registry', download_url: `${server.url}/files/comfyui-impact-pack/8.1.0/node.zip`, sha256: server.sha256Of('comfyui-impact-pack', '8.1.0'),
    })
    expect(doc['dependency-groups']).toEqual({ 'comfyui-impact-pack-0cd1b221': ['segment-anything'] })
    expect(readFileSync(join(env.customNodes, 'ComfyUI-Impact-Pack', '__init__.py'), 'utf8')).toBe('V = "8.1.0"\n')
    expect(server.hits('/nodes/comfyui-impact-pack/install')).toBe(0)
  })

  it('creates custom_nodes when the environment has none, for add and for installing missing packs', async () => {
    const { ws, env } = await setup()
    rmSync(env.customNodes, { recursive: true })
    const out = await addNodes(ws, env, ['comfyui-impact-pack@8.1.0'], { syncPython: false })
    expect(out.results[0]).toMatchObject({ ok: true, id: 'comfyui-impact-pack' })
    expect(readFileSync(join(env.customNodes, 'ComfyUI-Impact-Pack', '__init__.py'), 'utf8')).toBe('V = "8.1.0"\n')
    rmSync(env.customNodes, { recursive: true })
    const { installMissingNodes } = await import('../../sidecar/nodes')
    expect((await installMissingNodes(ws, env)).results[0]).toMatchObject({ ok: true, id: 'comfyui-impact-pack' })
    expect(existsSync(join(env.customNodes, 'ComfyUI-Impact-Pack', '__init__.py'))).toBe(true)
  })

  it('pins a requested registry version and warns about skipped requirement options', async () => {
    const { ws, env } = await setup()
    const out = await addNodes(ws, env, ['comfyui-impact-pack@8.0.0'], { syncPython: false })
    expect(out.results[0].entry).toMatchObject({ version: '8.0.0' })
    expect(out.warnings.join('\n')).toContain('--extra-index-url https://x')
    const doc = await readManifest(env.pyproject)
    expect(doc['dependency-groups']!['comfyui-impact-pack-0cd1b221']).toEqual(['segment-anything', 'scipy>1'])
  })

  it('installs a cached registry version in another environment with the server stopped', async () => {
    const local = await startRegistryServer([{ id: 'offline-pack', versions: [{ version: '1.0.0' }] }])
    const { ws, env } = await makeWorkspaceWithEnv({}, { registry_url: local.url })
    expect((await addNodes(ws, env, ['offline-pack@1.0.0'], { syncPython: false })).ok).toBe(true)
    await local.stop()
    const env2 = ws.env('e2')
    mkdirSync(env2.customNodes, { recursive: true })
    await writeManifest(env2.pyproject, { project: { name: 'comfydock-env-e2', version: '0.1.0', dependencies: [] }, tool: { comfydock: {} } })
    // past the time-to-live: the registry is asked again, cannot answer, and the old answer serves
    const Database = (await import('better-sqlite3')).default
    const db = new Database(ws.cache.registryDb)
    db.prepare('UPDATE responses SET fetched_at = 0').run()
    db.close()
    const out = await addNodes(ws, env2, ['offline-pack@1.0.0'], { syncPython: false })
    expect(out.results[0]).toMatchObject({ ok: true, cached: true })
    expect(out.warnings).toContain('the Comfy Registry is unreachable; offline-pack resolved from the cache')
    expect(existsSync(join(env2.customNodes, 'offline-pack', '__init__.py'))).toBe(true)
  })

  it('adds a git pack over the git protocol, pinning the full commit of the ref', async () => {
    const { ws, env } = await setup()
    const out = await addNodes(ws, env, [`${daemon.urlOf('my-git-pack')}@v1.0`], { syncPython: false })
    expect(out.results[0]).toMatchObject({ ok: true, id: 'my-git-pack' })
    const entry = (await readManifest(env.pyproject)).tool.comfydock.nodes!['my-git-pack']
    expect(entry).toEqual({ name: 'my-git-pack', repository: daemon.urlOf('my-git-pack'), version: repo.commits[0], source: 'git', ref: 'v1.0' })
    expect(readFileSync(join(env.customNodes, 'my-git-pack', '__init__.py'), 'utf8')).toBe('V = 1\n')
  })

  it('checks out the submodules of a git pack at the commits the pack pins', async () => {
    const lib = makeGitRepo(join(repos, 'vendored-lib'), [{ files: { 'lib.py': 'LIB = 1\n' } }, { files: { 'lib.py': 'LIB = 2\n' } }])
    const d = await startGitDaemon(repos)
    try {
      const pack = makeGitRepo(join(repos, 'pack-with-submodule'), [{ files: { '__init__.py': 'from .vendor.lib import lib\n' } }])
      execFileSync('git', ['-C', pack.path, 'submodule', 'add', '-q', d.urlOf('vendored-lib'), 'vendor/lib'])
      execFileSync('git', ['-C', join(pack.path, 'vendor/lib'), 'checkout', '-q', lib.commits[0]])
      pack.commit({}, { message: 'pin the vendored lib at its first commit' })
      const { ws, env } = await setup()
      const out = await addNodes(ws, env, [d.urlOf('pack-with-submodule')], { syncPython: false })
      expect(out.results[0]).toMatchObject({ ok: true, id: 'pack-with-submodule' })
      expect(readFileSync(join(env.customNodes, 'pack-with-submodule', 'vendor/lib/lib.py'), 'utf8')).toBe('LIB = 1\n')
      // the checkout points at the real remote, not at the workspace's mirror
      const origin = execFileSync('git', ['-C', join(env.customNodes, 'pack-with-submodule', 'vendor/lib'), 'remote', 'get-url', 'origin'], { encoding: 'utf8' }).trim()
      expect(origin).toBe(d.urlOf('vendored-lib'))

      // Both repositories are mirrored: another environment installs the pack with the git server stopped.
      await d.stop()
      const env2 = ws.env('e2')
      mkdirSync(env2.customNodes, { recursive: true })
      await writeManifest(env2.pyproject, { project: { name: 'comfydock-env-e2', version: '0.1.0', dependencies: [] }, tool: { comfydock: {} } })
      const again = await addNodes(ws, env2, [`${d.urlOf('pack-with-submodule')}@${out.results[0].entry!.version}`], { syncPython: false })
      expect(again.results[0]).toMatchObject({ ok: true })
      expect(readFileSync(join(env2.customNodes, 'pack-with-submodule', 'vendor/lib/lib.py'), 'utf8')).toBe('LIB = 1\n')
    } finally {
      await d.stop()
    }
  })

  it('fails a git pack whose submodule cannot be fetched, and leaves no half-installed folder', async () => {
    const d = await startGitDaemon(repos)
    try {
      const pack = makeGitRepo(join(repos, 'pack-broken-submodule'), [{ files: { '__init__.py': '\n' } }])
      makeGitRepo(join(repos, 'lib-that-goes-away'), [{ files: { 'x.py': '1\n' } }])
      execFileSync('git', ['-C', pack.path, 'submodule', 'add', '-q', d.urlOf('lib-that-goes-away'), 'vendor/x'])
      pack.commit({}, { message: 'add submodule' })
      rmSync(join(repos, 'lib-that-goes-away'), { recursive: true })
      const { ws, env } = await setup()
      const out = await addNodes(ws, env, [d.urlOf('pack-broken-submodule')], { syncPython: false })
      expect(out.results[0]).toMatchObject({ ok: false })
      expect(out.results[0].error).toMatchObject({ code: 'NODE_INSTALL_FAILED' })
      expect(out.results[0].error?.message).toContain('submodules')
      expect(existsSync(join(env.customNodes, 'pack-broken-submodule'))).toBe(false)
    } finally {
      await d.stop()
    }
  })

  it('installs a mirrored git pack in another environment with the git server stopped', async () => {
    const local = makeGitRepo(join(repos, 'offline-git'), [{ files: { 'a.py': '1\n' }, tag: 'v1' }])
    const d = await startGitDaemon(repos)
    const { ws, env } = await setup()
    await addNodes(ws, env, [`${d.urlOf('offline-git')}@v1`], { syncPython: false })
    await d.stop()
    const env2 = ws.env('e2')
    mkdirSync(env2.customNodes, { recursive: true })
    await writeManifest(env2.pyproject, { project: { name: 'comfydock-env-e2', version: '0.1.0', dependencies: [] }, tool: { comfydock: {} } })
    const out = await addNodes(ws, env2, [`${d.urlOf('offline-git')}@v1`], { syncPython: false })
    expect(out.results[0]).toMatchObject({ ok: true, entry: { version: local.commits[0] } })
    expect(out.warnings.join('\n')).toMatch(/unreachable; using the cached mirror's v1/)
    expect(readFileSync(join(env2.customNodes, 'offline-git', 'a.py'), 'utf8')).toBe('1\n')
  })

  it('adds a git pack over HTTP and keys it by the registry id whose repository it is', async () => {
    const http = await startGitHttpServer(repos)
    const url = http.urlOf('my-git-pack')
    const local = await startRegistryServer([{ id: 'my-git-pack-registry', repository: url, versions: [{ version: '1.0.0' }] }])
    const { ws, env } = await makeWorkspaceWithEnv({}, { registry_url: local.url })
    const out = await addNodes(ws, env, [url], { syncPython: false })
    expect(out.results[0]).toMatchObject({ ok: true, id: 'my-git-pack-registry' })
    expect((await readManifest(env.pyproject)).tool.comfydock.nodes!['my-git-pack-registry']).toMatchObject({
      name: 'my-git-pack', registry_id: 'my-git-pack-registry', repository: url, version: repo.commits[1], source: 'git',
    })
    await http.stop()
    await local.stop()
  })

  it('installs a registry pack published without an archive from its repository, pinned to a commit', async () => {
    const http = await startGitHttpServer(repos)
    const url = http.urlOf('my-git-pack')
    const local = await startRegistryServer([{ id: 'no-zip-pack', repository: url, versions: [{ version: '1.0.0', noArchive: true }] }])
    const { ws, env } = await makeWorkspaceWithEnv({}, { registry_url: local.url })
    const out = await addNodes(ws, env, ['no-zip-pack'], { syncPython: false })
    expect(out.results[0]).toMatchObject({ ok: true, id: 'no-zip-pack', entry: { source: 'git', registry_id: 'no-zip-pack', version: repo.commits[1], repository: url } })
    expect(out.warnings.join('\n')).toContain('has no registry archive; installing from')
    await http.stop()
    await local.stop()
  })

  it('adds a git pack by file:// URL at its default branch and reads requirements from its pyproject', async () => {
    const { ws, env } = await setup()
    await addNodes(ws, env, [repo.fileUrl], { syncPython: false })
    const doc = await readManifest(env.pyproject)
    expect(doc.tool.comfydock.nodes!['my-git-pack'].version).toBe(repo.commits[1])
    expect(Object.values(doc['dependency-groups']!)).toEqual([['piexif>=1.1']])
  })

  it('tracks a development node in place without copying it', async () => {
    const { ws, env } = await setup()
    mkdirSync(join(env.customNodes, 'my-dev-node'))
    writeFileSync(join(env.customNodes, 'my-dev-node', 'requirements.txt'), 'piexif\n')
    const out = await addNodes(ws, env, ['my-dev-node'], { dev: true, syncPython: false })
    expect(out.results[0].entry).toEqual({ name: 'my-dev-node', version: 'dev', source: 'development' })
  })

  it('keeps going when one spec of a batch fails and reports each outcome', async () => {
    const { ws, env } = await setup()
    const out = await addNodes(ws, env, ['no-such-pack', 'comfyui-impact-pack', 'bad spec!'], { syncPython: false })
    expect(out.ok).toBe(false)
    expect(out.results.map(r => [r.spec, r.ok, r.error?.code])).toEqual([
      ['no-such-pack', false, 'NODE_NOT_FOUND'], ['comfyui-impact-pack', true, undefined], ['bad spec!', false, 'NODE_SPEC_UNSUPPORTED'],
    ])
    expect(Object.keys((await readManifest(env.pyproject)).tool.comfydock.nodes!)).toEqual(['comfyui-impact-pack'])
  })

  it('refuses a registry archive whose sha256 differs from the pin, and leaves nothing behind', async () => {
    const local = await startRegistryServer([{ id: 'moving-pack', versions: [{ version: '1.0.0', files: { '__init__.py': 'original\n' } }] }])
    const { ws, env } = await makeWorkspaceWithEnv({
      nodes: { 'moving-pack': { name: 'moving-pack', registry_id: 'moving-pack', version: '1.0.0', source: 'registry', download_url: `${local.url}/files/moving-pack/1.0.0/node.zip`, sha256: 'a'.repeat(64) } },
    }, { registry_url: local.url })
    const { installMissingNodes } = await import('../../sidecar/nodes')
    const out = await installMissingNodes(ws, env)
    expect(out.results[0]).toMatchObject({ ok: false, error: { code: 'NODE_HASH_MISMATCH' } })
    expect(existsSync(join(env.customNodes, 'moving-pack'))).toBe(false)
    await local.stop()
  })

  it('refuses a zip-slip archive from the registry', async () => {
    const { execFileSync } = await import('node:child_process')
    const file = join(repos, 'evil.zip')
    execFileSync('python3', ['-c', 'import zipfile,sys\nwith zipfile.ZipFile(sys.argv[1],"w") as z: z.writestr("../../evil.py","x")', file])
    const local = await startRegistryServer([{ id: 'evil-pack', versions: [{ version: '1.0.0', zip: readFileSync(file) }] }])
    const { ws, env } = await makeWorkspaceWithEnv({}, { registry_url: local.url })
    const out = await addNodes(ws, env, ['evil-pack'], { syncPython: false })
    expect(out.results[0].error?.code).toBe('ARCHIVE_UNSAFE')
    expect((await readManifest(env.pyproject)).tool.comfydock.nodes).toBeUndefined()
    expect(existsSync(join(env.customNodes, 'evil.py'))).toBe(false)
    await local.stop()
  })
})
