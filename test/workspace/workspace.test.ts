import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli } from '../support/cli'
import { makeTempDir } from '../support/temp-dir'

describe('comfydock init', () => {
  it('creates the workspace layout with a versioned workspace.json, and is idempotent', () => {
    const ws = join(makeTempDir(), 'ws')
    const first = runCli(['init', ws, '--json'])
    expect(first.code).toBe(0)
    expect(first.json()).toMatchObject({ workspace: ws, created: true })
    for (const d of ['environments', 'cache', 'logs', 'models', '.metadata']) expect(statSync(join(ws, d)).isDirectory()).toBe(true)
    const file = JSON.parse(readFileSync(join(ws, '.metadata', 'workspace.json'), 'utf8'))
    expect(file.version).toBe(1)
    const again = runCli(['init', ws, '--json'])
    expect(again.code).toBe(0)
    expect(again.json()).toMatchObject({ created: false })
  })

  it('uses COMFYDOCK_HOME when no path is given', () => {
    const home = join(makeTempDir(), 'home-ws')
    const res = runCli(['init', '--json'], { env: { COMFYDOCK_HOME: home } })
    expect(res.code).toBe(0)
    expect(res.json().workspace).toBe(home)
  })

  it('refuses a non-empty folder that is not a workspace, with a hint', () => {
    const dir = makeTempDir()
    mkdirSync(join(dir, 'stuff'))
    writeFileSync(join(dir, 'stuff', 'notes.txt'), 'mine')
    const res = runCli(['init', join(dir, 'stuff')])
    expect(res.code).toBe(1)
    expect(res.stderr).toContain('error[WORKSPACE_FOREIGN_DIR]')
    expect(res.stderr).toContain('hint:')
    expect(res.stderr).not.toMatch(/\n\s+at /)
    expect(readFileSync(join(dir, 'stuff', 'notes.txt'), 'utf8')).toBe('mine')
  })

  it('tells the user to run init when the workspace is missing', () => {
    const res = runCli(['config', '--show'], { workspace: join(makeTempDir(), 'none') })
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(/error\[WORKSPACE_NOT_FOUND\].*\nhint: Run `comfydock init/)
  })
})

describe('comfydock config', () => {
  it('stores tokens in a 0600 file outside workspace.json and never prints them in full', () => {
    const ws = join(makeTempDir(), 'ws')
    runCli(['init', ws])
    const set = runCli(['config', 'civitai_token', 'civitai-secret-1234567890'], { workspace: ws })
    expect(set.code).toBe(0)
    expect(set.stdout).not.toContain('civitai-secret-1234567890')
    const creds = join(ws, '.metadata', 'credentials.json')
    expect(statSync(creds).mode & 0o777).toBe(0o600)
    expect(readFileSync(join(ws, '.metadata', 'workspace.json'), 'utf8')).not.toContain('civitai-secret')
    const show = runCli(['config', '--show', '--json'], { workspace: ws })
    expect(show.stdout).not.toContain('civitai-secret-1234567890')
    expect(show.json().config.civitai_token).toMatch(/^civi…7890$/)
  })

  it('sets, reads and resets plain keys; a local path is accepted as comfyui_source', () => {
    const ws = join(makeTempDir(), 'ws')
    runCli(['init', ws])
    expect(runCli(['config', 'comfyui_source', '/srv/ComfyUI'], { workspace: ws }).code).toBe(0)
    expect(runCli(['config', 'comfyui_source'], { workspace: ws }).stdout.trim()).toBe('/srv/ComfyUI')
    runCli(['config', 'comfyui_source', ''], { workspace: ws })
    expect(runCli(['config', 'comfyui_source'], { workspace: ws }).stdout.trim()).toBe('https://github.com/comfyanonymous/ComfyUI.git')
  })

  it('rejects an unknown key with the list of known keys', () => {
    const ws = join(makeTempDir(), 'ws')
    runCli(['init', ws])
    const res = runCli(['config', 'nope', 'x', '--json'], { workspace: ws })
    expect(res.code).toBe(1)
    expect(res.json().error).toMatchObject({ code: 'CONFIG_UNKNOWN_KEY' })
    expect(res.json().error.hint).toContain('registry_url')
  })
})

describe('CLI conventions', () => {
  it('exits 2 on a usage error', () => {
    const res = runCli(['no-such-command'])
    expect(res.code).toBe(2)
    expect(res.stderr).toContain("unknown command 'no-such-command'")
  })

  it('package.json version matches the version the tool reports', () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8'))
    expect(runCli(['--version']).stdout.trim()).toBe(pkg.version)
  })
})
