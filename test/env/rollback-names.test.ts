/**
 * Finding 4: `rollback` overwrote uncommitted work for a workflow whose name has a space or a non-ASCII
 * character, because git quotes such names in plain porcelain output. Real .cec repository, real CLI:
 * commit X (A), delete it and commit (B), write a new uncommitted X, roll back to A.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Workspace } from '../../sidecar/workspace'
import { runCli } from '../support/cli'
import { makeTempDir } from '../support/temp-dir'
import { PROJECT, envOnDisk, git } from '../hostile/support/hostile-env'

const MANIFEST = `${PROJECT}\n[tool.comfydock]\nschema_version = 1\n`

describe('rollback keeps uncommitted work whatever the workflow is called', () => {
  it.each(['plain', 'my flow', 'ünïcödé 画像', 'quote"d'])('refuses to overwrite an uncommitted "%s.json"', async (name) => {
    const { workspace: ws } = await Workspace.init(join(makeTempDir('rb-names'), 'ws'))
    const env = envOnDisk(ws.root, 'e', MANIFEST)
    const file = join(env.cec, 'workflows', `${name}.json`)
    writeFileSync(file, '{"version": "committed"}')
    git(env.cec, 'add', '-A')
    git(env.cec, 'commit', '-qm', 'A')
    const a = git(env.cec, 'rev-parse', 'HEAD')
    rmSync(file)
    git(env.cec, 'commit', '-qam', 'B')
    const b = git(env.cec, 'rev-parse', 'HEAD')
    const mine = '{"version": "my unsaved work"}'
    writeFileSync(file, mine)

    const res = runCli(['-e', 'e', 'rollback', a.slice(0, 7), '--yes'], { workspace: ws.root })
    expect(readFileSync(file, 'utf8')).toBe(mine)
    expect(git(env.cec, 'rev-parse', 'HEAD')).toBe(b)
    expect(res.code).not.toBe(0)
    expect(res.stderr).toContain('UNCOMMITTED_CHANGES')
    expect(res.stderr).toContain(`workflows/${name}.json`)
  })

  it('lists such names as they are in status and commit output', async () => {
    const { workspace: ws } = await Workspace.init(join(makeTempDir('rb-names'), 'ws'))
    const env = envOnDisk(ws.root, 'e', MANIFEST)
    writeFileSync(join(env.cec, 'workflows', 'ünïcödé 画像.json'), '{}')
    const status = runCli(['-e', 'e', 'status', '--json'], { workspace: ws.root })
    expect(status.json().sections.git.changes).toEqual([{ status: '??', path: 'workflows/ünïcödé 画像.json' }])
  })
})
