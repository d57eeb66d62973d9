/**
 * The one git wrapper against real git: typed status that round-trips any file name, validated
 * revisions, the protocol allow-list (also inside git, for submodules), and a remote that asks for
 * credentials: no prompt waits, while a credential helper still answers.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { cloneRepo, lsRemote, openGit, parsePorcelainZ } from '../../sidecar/git'
import { makeGitRepo } from '../support/git-repos'
import { makeTempDir } from '../support/temp-dir'

const NAMES = ['plain.json', 'my flow.json', 'ünïcödé 画像.json', 'quote"d\'.json', 'tab\there.json', 'new\nline.json', '-dash.json']

async function repoWith (files: string[]): Promise<string> {
  const dir = makeTempDir('wrap')
  await openGit(dir).init()
  for (const f of files) writeFileSync(join(dir, f), f)
  return dir
}

describe('status', () => {
  it('returns every file name exactly as it is on disk, whatever characters it has', async () => {
    const dir = await repoWith(NAMES)
    const untracked = await openGit(dir).status()
    expect(untracked.map(e => e.path).sort()).toEqual([...NAMES].sort())
    expect(untracked.every(e => e.x === '?' && e.y === '?')).toBe(true)
    await openGit(dir).commit('all')
    for (const f of NAMES) writeFileSync(join(dir, f), 'changed')
    const modified = await openGit(dir).status()
    expect(modified.map(e => [e.x, e.y, e.path]).sort()).toEqual(NAMES.map(f => [' ', 'M', f]).sort())
  })

  it('reports a staged rename with the path it came from', async () => {
    const dir = await repoWith(['my flow.json'])
    const git = openGit(dir)
    await git.commit('one')
    renameSync(join(dir, 'my flow.json'), join(dir, 'ünï flow.json'))
    await git.add()
    expect(await git.status()).toEqual([{ x: 'R', y: ' ', path: 'ünï flow.json', origPath: 'my flow.json' }])
  })

  it('parses porcelain v1 -z records', () => {
    expect(parsePorcelainZ(' M a b\0?? c\0R  new\0old\0')).toEqual([
      { x: ' ', y: 'M', path: 'a b' }, { x: '?', y: '?', path: 'c' }, { x: 'R', y: ' ', path: 'new', origPath: 'old' },
    ])
  })

  it('lists, diffs and logs names with spaces and non-ASCII characters as they are', async () => {
    const dir = await repoWith(['a.json'])
    const git = openGit(dir)
    const first = (await git.commit('first'))!
    for (const f of NAMES) writeFileSync(join(dir, f), f)
    const second = (await git.commit('second'))!
    expect((await git.listFiles(second)).sort()).toEqual(['a.json', ...NAMES].sort())
    expect((await git.diffNames(first, second, 'A')).sort()).toEqual([...NAMES].sort())
    expect((await git.log({ paths: ['ünïcödé 画像.json'] })).map(l => l.commit)).toEqual([second])
    expect(await git.show(second, 'my flow.json')).toBe('my flow.json')
  })
})

describe('what reaches the command line', () => {
  it('refuses revisions, commit ids and refspecs that git could read as options', async () => {
    const dir = await repoWith(['a'])
    const git = openGit(dir)
    await git.commit('one')
    const marker = join(dir, 'ran')
    await expect(git.revParse('--output=x')).rejects.toMatchObject({ code: 'INVALID_GIT_REF' })
    await expect(git.show('--output=x', 'a')).rejects.toMatchObject({ code: 'INVALID_GIT_REF' })
    await expect(git.checkoutDetached('--orphan=x')).rejects.toMatchObject({ code: 'INVALID_GIT_REF' })
    await expect(git.hasCommit('HEAD')).rejects.toMatchObject({ code: 'INVALID_GIT_REF' })
    await expect(git.tag('--delete')).rejects.toMatchObject({ code: 'INVALID_GIT_REF' })
    await expect(git.fetch(dir, [`--upload-pack=touch ${marker};git-upload-pack`], { policy: { allowLocal: true } })).rejects.toMatchObject({ code: 'INVALID_GIT_REF' })
    expect(existsSync(marker)).toBe(false)
  })

  it('takes a revision that starts with a letter but names no commit as "not found", not as an option', async () => {
    const dir = await repoWith(['a'])
    await openGit(dir).commit('one')
    expect(await openGit(dir).revParse('no-such-branch')).toBeNull()
    expect(await openGit(dir).revParse('HEAD~0')).toMatch(/^[0-9a-f]{40}$/)
  })
})

describe('protocol allow-list', () => {
  it('refuses remote helpers, non-loopback http and options as URLs before git runs', async () => {
    const dir = makeTempDir('proto')
    const marker = join(dir, 'ran')
    for (const url of [`ext::sh -c touch% ${marker}`, 'fd::3', 'http://example.com/r.git', '--upload-pack=touch x', 'ftp://example.com/r.git']) {
      await expect(lsRemote(url, { policy: { allowLocal: true } })).rejects.toMatchObject({ code: 'GIT_URL_NOT_ALLOWED' })
      await expect(cloneRepo(url, join(dir, 'c'), { policy: { allowLocal: true } })).rejects.toMatchObject({ code: 'GIT_URL_NOT_ALLOWED' })
    }
    expect(existsSync(marker)).toBe(false)
  })

  it('reads a local repository only where the caller allows it', async () => {
    const src = makeGitRepo(join(makeTempDir('proto'), 'src'), [{ files: { 'a.txt': 'a' } }])
    await expect(lsRemote(src.fileUrl, { policy: { allowLocal: false } })).rejects.toMatchObject({ code: 'GIT_URL_NOT_ALLOWED', hint: expect.stringContaining('trusted_local_sources') })
    await expect(lsRemote(src.path, { policy: { allowLocal: url => url !== src.path } })).rejects.toMatchObject({ code: 'GIT_URL_NOT_ALLOWED' })
    expect((await lsRemote(src.path, { policy: { allowLocal: true } })).find(r => r.ref === 'refs/heads/main')?.commit).toBe(src.commits[0])
  })

  it('keeps git itself from following a submodule to a local path or through a remote helper', async () => {
    const root = makeTempDir('proto-sub')
    const marker = join(root, 'ran')
    const secret = makeGitRepo(join(root, 'secret'), [{ files: { 'key.txt': 'private' } }])
    const pack = makeGitRepo(join(root, 'pack'), [{ files: { 'a.txt': 'a' } }])
    execFileSync('git', ['-C', pack.path, '-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', secret.path, 'vendor'])
    execFileSync('git', ['-C', pack.path, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'sub'])
    const dest = join(root, 'clone')
    await cloneRepo(pack.path, dest, { policy: { allowLocal: true } })
    const git = openGit(dest)
    await git.submoduleInit()
    await expect(git.submoduleUpdate({ policy: { allowLocal: false } })).rejects.toMatchObject({ code: 'GIT_FAILED' })
    expect(existsSync(join(dest, 'vendor', 'key.txt'))).toBe(false)
    await git.configSet('submodule.vendor.url', `ext::sh -c touch% ${marker}`)
    await expect(git.submoduleUpdate({ policy: { allowLocal: true } })).rejects.toMatchObject({ code: 'GIT_FAILED' })
    expect(existsSync(marker)).toBe(false)
  })
})

describe('a remote that asks for credentials', () => {
  const saved = { ...process.env }
  afterEach(() => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k]
    Object.assign(process.env, saved)
  })

  async function authServer (): Promise<{ url: string, auth: string[], close: () => Promise<void> }> {
    const auth: string[] = []
    const server = createServer((req, res) => {
      if (req.headers.authorization) auth.push(req.headers.authorization)
      res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' })
      res.end()
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/r.git`, auth, close: () => new Promise(resolve => server.close(() => resolve())) }
  }

  it('fails at once instead of prompting, even with an askpass program configured', async () => {
    const s = await authServer()
    const dir = makeTempDir('askpass')
    const askpass = join(dir, 'askpass.sh')
    writeFileSync(askpass, `#!/bin/sh\ntouch ${join(dir, 'asked')}\necho secret\n`, { mode: 0o755 })
    process.env.GIT_ASKPASS = askpass
    process.env.SSH_ASKPASS = askpass
    const started = Date.now()
    await expect(lsRemote(s.url, { policy: { allowLocal: false } })).rejects.toMatchObject({ code: 'GIT_FAILED' })
    expect(Date.now() - started).toBeLessThan(20_000)
    expect(existsSync(join(dir, 'asked'))).toBe(false)
    expect(s.auth).toEqual([])
    await s.close()
  })

  it('still lets git\'s own credential helper answer', async () => {
    const s = await authServer()
    Object.assign(process.env, { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'credential.helper', GIT_CONFIG_VALUE_0: '!f() { echo username=alice; echo password=s3cret; }; f' })
    await expect(lsRemote(s.url, { policy: { allowLocal: false } })).rejects.toMatchObject({ code: 'GIT_FAILED' })
    expect(s.auth).toContain(`Basic ${Buffer.from('alice:s3cret').toString('base64')}`)
    await s.close()
  })
})

describe('repository pointers from the caller\'s environment', () => {
  afterEach(() => { delete process.env.GIT_DIR })
  it('are ignored: a call always goes to the repository it names', async () => {
    const a = await repoWith(['a'])
    const b = await repoWith(['b'])
    await openGit(a).commit('a')
    process.env.GIT_DIR = join(b, '.git')
    mkdirSync(join(a, 'sub'), { recursive: true })
    expect((await openGit(a).listFiles('HEAD'))).toEqual(['a'])
  })
})
