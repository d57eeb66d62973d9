import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readManifest, writeManifest } from '../../sidecar/manifest'
import { addNodes, getNodeStatus, installMissingNodes, listNodes, pruneNodes, removeNodes, updateNode } from '../../sidecar/nodes'
import { makeGitRepo, type GitRepo } from '../support/git-repos'
import { startRegistryServer, type RegistryServer } from '../support/registry-server'
import { makeTempDir } from '../support/temp-dir'
import { makeWorkspaceWithEnv } from './env-fixture'

let server: RegistryServer
let repo: GitRepo
const noSync = { syncPython: false }

beforeAll(async () => {
  server = await startRegistryServer([
    { id: 'pack-a', versions: [{ version: '1.0.0', files: { '__init__.py': 'a1\n' } }, { version: '1.1.0', files: { '__init__.py': 'a2\n', 'requirements.txt': 'piexif\n' } }] },
    { id: 'pack-b', versions: [{ version: '2.0.0' }] },
  ])
  repo = makeGitRepo(join(makeTempDir('repo'), 'git-pack'), [{ files: { 'n.py': '1\n' } }])
})
afterAll(async () => { await server?.stop() })

const setup = () => makeWorkspaceWithEnv({}, { registry_url: server.url })

describe('node remove', () => {
  it('deletes registry and git pack folders and drops their dependency groups', async () => {
    const { ws, env } = await setup()
    await addNodes(ws, env, ['pack-a@1.1.0', repo.fileUrl], noSync)
    const out = await removeNodes(ws, env, ['pack-a', 'git-pack'])
    expect(out.results.map(r => [r.id, r.folder])).toEqual([['pack-a', 'deleted'], ['git-pack', 'deleted']])
    const doc = await readManifest(env.pyproject)
    expect(doc.tool.comfydock.nodes).toBeUndefined()
    expect(doc['dependency-groups']).toBeUndefined()
    expect(existsSync(join(env.customNodes, 'pack-a'))).toBe(false)
  })

  it('renames a development node to NAME.disabled instead of deleting it', async () => {
    const { ws, env } = await setup()
    mkdirSync(join(env.customNodes, 'mine'))
    writeFileSync(join(env.customNodes, 'mine', 'work.py'), 'precious\n')
    await addNodes(ws, env, ['mine'], { ...noSync, dev: true })
    expect((await removeNodes(ws, env, ['mine'])).results[0].folder).toBe('disabled')
    expect(readFileSync(join(env.customNodes, 'mine.disabled', 'work.py'), 'utf8')).toBe('precious\n')
  })

  it('reports an untracked id without touching anything', async () => {
    const { ws, env } = await setup()
    const out = await removeNodes(ws, env, ['nope'])
    expect(out.results[0].error?.code).toBe('NODE_NOT_TRACKED')
  })
})

describe('node update', () => {
  it('moves a registry pack to the latest version, and to a given version', async () => {
    const { ws, env } = await setup()
    await addNodes(ws, env, ['pack-a@1.0.0'], noSync)
    const up = await updateNode(ws, env, 'pack-a', noSync)
    expect(up).toMatchObject({ from: '1.0.0', to: '1.1.0', changed: true })
    expect(readFileSync(join(env.customNodes, 'pack-a', '__init__.py'), 'utf8')).toBe('a2\n')
    expect((await readManifest(env.pyproject))['dependency-groups']).toEqual({ [Object.keys((await readManifest(env.pyproject))['dependency-groups']!)[0]]: ['piexif'] })
    const down = await updateNode(ws, env, 'pack-a@1.0.0', noSync)
    expect(down).toMatchObject({ from: '1.1.0', to: '1.0.0' })
    expect((await readManifest(env.pyproject))['dependency-groups']).toBeUndefined()
    expect(await updateNode(ws, env, 'pack-a@1.0.0', noSync)).toMatchObject({ changed: false })
  })

  it('sees a version published after the last registry look-up', async () => {
    const { ws, env } = await setup()
    await server.addPack({ id: 'pack-new', versions: [{ version: '1.0.0' }] })
    await addNodes(ws, env, ['pack-new'], noSync)
    await server.addPack({ id: 'pack-new', versions: [{ version: '1.0.0' }, { version: '1.0.1' }] })
    expect(await updateNode(ws, env, 'pack-new', noSync)).toMatchObject({ from: '1.0.0', to: '1.0.1', changed: true })
  })

  it('re-scans the requirements of a development node', async () => {
    const { ws, env } = await setup()
    mkdirSync(join(env.customNodes, 'mine'))
    await addNodes(ws, env, ['mine'], { ...noSync, dev: true })
    writeFileSync(join(env.customNodes, 'mine', 'requirements.txt'), 'piexif>=1\n')
    expect(await updateNode(ws, env, 'mine', noSync)).toMatchObject({ changed: true, requirements: ['piexif>=1'] })
    expect(Object.values((await readManifest(env.pyproject))['dependency-groups']!)).toEqual([['piexif>=1']])
    expect(readFileSync(join(env.customNodes, 'mine', 'requirements.txt'), 'utf8')).toBe('piexif>=1\n')
  })

  it('follows the new commit of a git pack', async () => {
    const { ws, env } = await setup()
    await addNodes(ws, env, [repo.fileUrl], noSync)
    const next = repo.commit({ 'n.py': '2\n' })
    expect(await updateNode(ws, env, 'git-pack', noSync)).toMatchObject({ to: next, changed: true })
    expect(readFileSync(join(env.customNodes, 'git-pack', 'n.py'), 'utf8')).toBe('2\n')
  })

  it('puts everything back when the new version cannot be installed', async () => {
    const { ws, env } = await setup()
    await addNodes(ws, env, ['pack-a@1.0.0'], noSync)
    const before = readFileSync(env.pyproject, 'utf8')
    await expect(updateNode(ws, env, 'pack-a@9.9.9', noSync)).rejects.toMatchObject({ code: 'NODE_VERSION_NOT_FOUND' })
    // a failure after the new folder is in place (Python sync into a broken venv) also rolls back
    mkdirSync(join(env.venv, 'bin'), { recursive: true })
    writeFileSync(join(env.venv, 'bin', 'python'), '#!/bin/sh\nexit 3\n', { mode: 0o755 })
    await expect(updateNode(ws, env, 'pack-a', { syncPython: true })).rejects.toBeTruthy()
    expect(readFileSync(env.pyproject, 'utf8')).toBe(before)
    expect(readFileSync(join(env.customNodes, 'pack-a', '__init__.py'), 'utf8')).toBe('a1\n')
  })
})

describe('local work in git packs', () => {
  it('is never replaced or deleted without --force', async () => {
    const { ws, env } = await setup()
    await addNodes(ws, env, [repo.fileUrl], noSync)
    const dir = join(env.customNodes, 'git-pack')
    const { execFileSync } = await import('node:child_process')
    execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'my local work'])
    const local = execFileSync('git', ['-C', dir, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim()
    expect((await installMissingNodes(ws, env)).results[0]).toMatchObject({ ok: false, error: { code: 'UNCOMMITTED_CHANGES' } })
    repo.commit({ 'n.py': 'newer\n' })
    await expect(updateNode(ws, env, 'git-pack', noSync)).rejects.toMatchObject({ code: 'UNCOMMITTED_CHANGES' })
    writeFileSync(join(dir, 'n.py'), 'edited\n')
    expect((await removeNodes(ws, env, ['git-pack'])).results[0]).toMatchObject({ ok: false, error: { code: 'UNCOMMITTED_CHANGES', message: expect.stringContaining('uncommitted changes') } })
    expect(execFileSync('git', ['-C', dir, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim()).toBe(local)
    expect(readFileSync(join(dir, 'n.py'), 'utf8')).toBe('edited\n')
    expect((await removeNodes(ws, env, ['git-pack'], { force: true })).results[0]).toMatchObject({ ok: true, folder: 'deleted' })
  })
})

describe('node prune, list and status', () => {
  it('previews packs no workflow needs and removes them only when confirmed', async () => {
    const { ws, env } = await setup()
    await addNodes(ws, env, ['pack-a', 'pack-b'], noSync)
    const doc = await readManifest(env.pyproject)
    doc.tool.comfydock.workflows = { wf: { path: 'workflows/wf.json', nodes: ['pack-a'] } }
    await writeManifest(env.pyproject, doc)
    const declined = await pruneNodes(ws, env, { confirm: async () => false })
    expect(declined).toMatchObject({ plan: { remove: ['pack-b'], keep: ['pack-a'] }, confirmed: false, removed: [] })
    expect(existsSync(join(env.customNodes, 'pack-b'))).toBe(true)
    const done = await pruneNodes(ws, env, { confirm: async () => true })
    expect(done.removed.map(r => r.id)).toEqual(['pack-b'])
    expect(Object.keys((await readManifest(env.pyproject)).tool.comfydock.nodes!)).toEqual(['pack-a'])
  })

  it('lists missing, extra and version-mismatched packs, and install-missing restores them', async () => {
    const { ws, env } = await setup()
    await addNodes(ws, env, ['pack-a', repo.fileUrl], noSync)
    const pinned = (await readManifest(env.pyproject)).tool.comfydock.nodes!['git-pack'].version
    const { rmSync } = await import('node:fs')
    rmSync(join(env.customNodes, 'pack-a'), { recursive: true })
    mkdirSync(join(env.customNodes, 'stray-pack'))
    const { execFileSync } = await import('node:child_process')
    execFileSync('git', ['-C', join(env.customNodes, 'git-pack'), 'checkout', '-q', repo.commits[0]])
    const status = await getNodeStatus(ws, env)
    expect(status.missing).toEqual(['pack-a'])
    expect(status.extra).toEqual(['stray-pack'])
    expect(status.mismatched).toEqual([{ id: 'git-pack', expected: pinned, actual: expect.stringMatching(/^[0-9a-f]{40}$/) }])
    expect((await listNodes(ws, env)).nodes.map(n => [n.id, n.state])).toEqual([['git-pack', 'version-mismatch'], ['pack-a', 'missing']])
    await server.stop().catch(() => {})
    const fixed = await installMissingNodes(ws, env)
    expect(fixed.results.map(r => [r.id, r.ok, r.cached])).toEqual([['pack-a', true, true], ['git-pack', true, true]])
    expect(await getNodeStatus(ws, env)).toMatchObject({ missing: [], mismatched: [] })
  })
})
