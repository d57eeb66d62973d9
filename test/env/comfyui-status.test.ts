import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { getComfyuiStatus, getGitStatus } from '../../sidecar/env'
import type { Pyproject } from '../../sidecar/manifest'
import { Workspace } from '../../sidecar/workspace'
import { makeTempDir } from '../support/temp-dir'

const git = (dir: string, ...args: string[]): string =>
  execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { encoding: 'utf8' }).trim()

function manifest (sha: string): Pyproject {
  return {
    project: { name: 'comfydock-env-e1', version: '0.1.0', dependencies: [] },
    tool: { comfydock: { schema_version: 1, comfyui_version: 'v0.3.7', comfyui_version_type: 'release', comfyui_commit_sha: sha } },
  }
}

describe('status: ComfyUI and .cec repositories', () => {
  it('never reports the HEAD of a repository enclosing a ComfyUI/ that has no .git, and says what to do', async () => {
    // the user keeps the whole workspace in a git repository of their own
    const root = makeTempDir('enclosing')
    git(root, 'init', '-q')
    writeFileSync(join(root, 'notes.txt'), 'mine\n')
    git(root, 'add', '-A')
    git(root, 'commit', '-q', '-m', 'my dotfiles')
    const outerHead = git(root, 'rev-parse', 'HEAD')
    const { workspace: ws } = await Workspace.init(join(root, 'ws'))
    const env = ws.env('e1')
    mkdirSync(join(env.comfyui, 'comfy'), { recursive: true })
    writeFileSync(join(env.comfyui, 'main.py'), '')

    const s = await getComfyuiStatus(ws, env, manifest(outerHead))
    expect(s).toMatchObject({ ok: false, actual: null, expected: outerHead })
    expect(s.summary).toContain('not a git checkout of its own')
    expect(s.details?.join('\n')).toContain('`comfydock delete e1` then `comfydock create e1`')
  })

  it('reads the commit of ComfyUI/ when it is its own repository, also inside another one', async () => {
    const root = makeTempDir('own')
    git(root, 'init', '-q')
    const { workspace: ws } = await Workspace.init(join(root, 'ws'))
    const env = ws.env('e1')
    mkdirSync(env.comfyui, { recursive: true })
    git(env.comfyui, 'init', '-q')
    writeFileSync(join(env.comfyui, 'main.py'), '')
    git(env.comfyui, 'add', '-A')
    git(env.comfyui, 'commit', '-q', '-m', 'v0.3.7')
    const head = git(env.comfyui, 'rev-parse', 'HEAD')
    expect(await getComfyuiStatus(ws, env, manifest(head))).toMatchObject({ ok: true, actual: head, summary: 'ComfyUI v0.3.7' })
    expect(await getComfyuiStatus(ws, env, manifest('f'.repeat(40)))).toMatchObject({ ok: false, actual: head })
  })

  it('reports .cec without a .git of its own as having no history, not the enclosing repository\'s changes', async () => {
    const root = makeTempDir('cec')
    git(root, 'init', '-q')
    const { workspace: ws } = await Workspace.init(join(root, 'ws'))
    const env = ws.env('e1')
    mkdirSync(env.cec, { recursive: true })
    writeFileSync(env.pyproject, '')
    const s = await getGitStatus(ws, env)
    expect(s).toMatchObject({ ok: false, head: null, changes: [] })
    expect(s.summary).toContain('.cec is not a git repository')
  })
})
