import { execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { openGit } from '../../sidecar/git'
import { makeTempDir } from '../support/temp-dir'

const git = (dir: string, ...args: string[]): string => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim()

async function repo (): Promise<string> {
  const dir = makeTempDir('git')
  await openGit(dir).init()
  return dir
}

describe('openGit().commit', () => {
  const savedGlobal = process.env.GIT_CONFIG_GLOBAL
  afterEach(() => {
    if (savedGlobal === undefined) delete process.env.GIT_CONFIG_GLOBAL
    else process.env.GIT_CONFIG_GLOBAL = savedGlobal
  })

  it('returns the full id of the new commit, equal to HEAD, with every new and changed file recorded', async () => {
    const dir = await repo()
    writeFileSync(join(dir, 'a.txt'), 'a')
    mkdirSync(join(dir, 'sub'))
    writeFileSync(join(dir, 'sub', 'b.txt'), 'b')
    const id = await openGit(dir).commit('first')
    expect(id).toMatch(/^[0-9a-f]{40}$/)
    expect(id).toBe(git(dir, 'rev-parse', 'HEAD'))
    expect(git(dir, 'ls-tree', '-r', '--name-only', 'HEAD').split('\n')).toEqual(['a.txt', 'sub/b.txt'])
    writeFileSync(join(dir, 'a.txt'), 'changed')
    const second = await openGit(dir).commit('second')
    expect(second).toBe(git(dir, 'rev-parse', 'HEAD'))
    expect(git(dir, 'log', '--format=%s')).toBe('second\nfirst')
  })

  it('returns null when nothing changed since the last commit, and records no commit', async () => {
    const dir = await repo()
    writeFileSync(join(dir, 'a.txt'), 'a')
    const first = await openGit(dir).commit('first')
    expect(await openGit(dir).commit('again')).toBeNull()
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(first)
  })

  it('gives an empty repository its first (empty) commit, so history has a root', async () => {
    const dir = await repo()
    const id = await openGit(dir).commit('Initial environment setup')
    expect(id).toBe(git(dir, 'rev-parse', 'HEAD'))
    expect(git(dir, 'log', '--format=%s')).toBe('Initial environment setup')
  })

  it('commits with the comfydock identity when the user has none configured', async () => {
    process.env.GIT_CONFIG_GLOBAL = join(makeTempDir('gitcfg'), 'empty-gitconfig')
    writeFileSync(process.env.GIT_CONFIG_GLOBAL, '')
    const dir = await repo()
    writeFileSync(join(dir, 'a.txt'), 'a')
    await openGit(dir).commit('no identity')
    expect(git(dir, 'log', '-1', '--format=%an <%ae>')).toBe('ComfyDock User <user@comfydock.local>')
  })

  it('keeps the user\'s own identity when one is configured', async () => {
    const dir = await repo()
    git(dir, 'config', 'user.name', 'Ada')
    git(dir, 'config', 'user.email', 'ada@example.org')
    writeFileSync(join(dir, 'a.txt'), 'a')
    await openGit(dir).commit('mine')
    expect(git(dir, 'log', '-1', '--format=%an <%ae>')).toBe('Ada <ada@example.org>')
  })

  it('a commit git refuses (a failing hook) is a GIT_FAILED error, not "nothing to commit"', async () => {
    const dir = await repo()
    const hook = join(dir, '.git', 'hooks', 'pre-commit')
    writeFileSync(hook, '#!/bin/sh\necho "hook says no" >&2\nexit 1\n')
    chmodSync(hook, 0o755)
    writeFileSync(join(dir, 'a.txt'), 'a')
    await expect(openGit(dir).commit('blocked')).rejects.toMatchObject({ code: 'GIT_FAILED', message: expect.stringContaining('hook says no') })
  })

  it('trackedOnly records modified and deleted tracked files, like staging everything', async () => {
    const dir = await repo()
    writeFileSync(join(dir, 'a.txt'), 'a')
    writeFileSync(join(dir, 'b.txt'), 'b')
    await openGit(dir).commit('first')
    writeFileSync(join(dir, 'a.txt'), 'changed')
    rmSync(join(dir, 'b.txt'))
    const id = await openGit(dir).commit('second', { trackedOnly: true })
    expect(id).toBe(git(dir, 'rev-parse', 'HEAD'))
    expect(git(dir, 'ls-tree', '-r', '--name-only', 'HEAD')).toBe('a.txt')
    expect(git(dir, 'show', 'HEAD:a.txt')).toBe('changed')
    expect(await openGit(dir).isClean()).toBe(true)
    expect(await openGit(dir).commit('third', { trackedOnly: true })).toBeNull()
  })

  it('trackedOnly: a commit a hook refuses is GIT_FAILED even though nothing was staged beforehand', async () => {
    const dir = await repo()
    writeFileSync(join(dir, 'a.txt'), 'a')
    await openGit(dir).commit('first')
    const hook = join(dir, '.git', 'hooks', 'pre-commit')
    writeFileSync(hook, '#!/bin/sh\nexit 1\n')
    chmodSync(hook, 0o755)
    writeFileSync(join(dir, 'a.txt'), 'changed')
    await expect(openGit(dir).commit('blocked', { trackedOnly: true })).rejects.toMatchObject({ code: 'GIT_FAILED' })
  })
})
