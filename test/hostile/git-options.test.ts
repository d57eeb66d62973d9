/**
 * Attack family: a manifest value that reaches git's command line as an option (finding 1).
 * `comfyui_commit_sha = "--upload-pack=touch X;git-upload-pack"` with a local ComfyUI source made
 * `git fetch` run a shell command, through `import` and through `rollback`. Real bundle, real CLI,
 * real git; the proof is a file the command would have created.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { ensureCached } from '../../sidecar/comfyui'
import { createGitStore } from '../../sidecar/nodes/store'
import { Workspace } from '../../sidecar/workspace'
import { runCli } from '../support/cli'
import { makeGitRepo, type GitRepo } from '../support/git-repos'
import { makeTempDir } from '../support/temp-dir'
import { PROJECT, bundleManifest, envOnDisk, git, writeBundle } from './support/hostile-env'

let root: string
let source: GitRepo
let marker: string
let hostile: string

beforeAll(() => {
  root = makeTempDir('git-opts')
  source = makeGitRepo(join(root, 'comfyui-src'), [{ files: { 'main.py': 'print("hi")\n', 'requirements.txt': '' }, tag: 'v0.3.7' }])
  marker = join(root, 'SHELL-COMMAND-RAN')
  // long enough (>= 40 characters) to take the shallow-fetch path that passed it to `git fetch`
  hostile = `--upload-pack=touch ${marker};git-upload-pack`
})

async function workspace (name: string): Promise<Workspace> {
  const { workspace: ws } = await Workspace.init(join(root, name))
  // the user's own offline mirror: a local source they configured
  await ws.setConfig('comfyui_source', source.fileUrl)
  return ws
}

const hostileManifest = (sha: string): string => `${PROJECT}
[tool.comfydock]
schema_version = 1
comfyui_version_type = "commit"
comfyui_commit_sha = "${sha}"
python_version = "3.11"
`

describe('a ComfyUI commit that is really a git option', () => {
  it('import refuses the bundle before anything runs, naming the field', async () => {
    const ws = await workspace('ws-import')
    const bundle = writeBundle(join(root, 'evil-import.tar.gz'), {
      'manifest.json': JSON.stringify(bundleManifest('evil')),
      'pyproject.toml': hostileManifest(hostile),
      '.python-version': '3.11\n',
    })
    const res = runCli(['import', bundle, '--yes', '--models', 'skip'], { workspace: ws.root })
    expect(existsSync(marker)).toBe(false)
    expect(existsSync(join(ws.root, 'environments', 'evil'))).toBe(false)
    expect(res.code).not.toBe(0)
    expect(res.stderr).toContain('comfyui_commit_sha')
    expect(res.stderr).not.toMatch(/\n\s+at /) // a user error, not a stack trace
  })

  it('rollback to a commit that carries it refuses before changing anything', async () => {
    const ws = await workspace('ws-rollback')
    const good = hostileManifest(source.commits[0])
    const env = envOnDisk(ws.root, 'e', good)
    // a commit that came from elsewhere (a pull, a hand edit) carries the option
    writeFileSync(join(env.cec, 'pyproject.toml'), hostileManifest(hostile))
    git(env.cec, 'commit', '-qam', 'pulled')
    const pulled = git(env.cec, 'rev-parse', 'HEAD')
    writeFileSync(join(env.cec, 'pyproject.toml'), good)
    git(env.cec, 'commit', '-qam', 'fixed')
    const head = git(env.cec, 'rev-parse', 'HEAD')

    const res = runCli(['-e', 'e', 'rollback', pulled.slice(0, 7), '--yes'], { workspace: ws.root })
    expect(existsSync(marker)).toBe(false)
    expect(git(env.cec, 'rev-parse', 'HEAD')).toBe(head)
    expect(readFileSync(join(env.cec, 'pyproject.toml'), 'utf8')).toBe(good)
    expect(res.code).not.toBe(0)
    expect(res.stderr).toContain('comfyui_commit_sha')
    expect(res.stderr).toContain('MANIFEST_INVALID')
  })

  it('never reaches git even when a caller skips the schema: the git layer checks commit ids itself', async () => {
    const ws = await workspace('ws-api')
    await expect(ensureCached(ws, source.fileUrl, { version: hostile, type: 'commit', commit: hostile })).rejects.toMatchObject({ code: 'INVALID_GIT_REF' })
    await expect(ensureCached(ws, source.fileUrl, { version: `--upload-pack=touch ${marker}`, type: 'release', commit: source.commits[0] })).rejects.toMatchObject({ code: 'INVALID_GIT_REF' })
    const store = createGitStore(join(root, 'store'), { allowLocal: true })
    await expect(store.checkout(source.fileUrl, hostile, join(root, 'pack'))).rejects.toMatchObject({ code: 'INVALID_GIT_REF' })
    await expect(store.resolve(source.fileUrl, hostile)).rejects.toMatchObject({ code: 'INVALID_GIT_REF' })
    expect(existsSync(marker)).toBe(false)
  })
})
