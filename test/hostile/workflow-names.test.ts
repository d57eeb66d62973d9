/**
 * Attack family: a workflow name that leaves the workflow folders (finding 3). A workflow table key
 * `"../../../../../victim"` passed import and status, and the next ordinary `commit` deleted
 * `victim.json` outside the workspace. Real bundle and real CLI; victim.json sits next to the workspace.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { envPaths } from '../../sidecar/workspace'
import { snapshotFile, userWorkflowFile } from '../../sidecar/workflows'
import { Workspace } from '../../sidecar/workspace'
import { runCli } from '../support/cli'
import { makeTempDir } from '../support/temp-dir'
import { PROJECT, bundleManifest, envOnDisk, writeBundle } from './support/hostile-env'

let root: string
beforeAll(() => { root = makeTempDir('wf-names') })

const manifest = (name: string): string => `${PROJECT}
[tool.comfydock]
schema_version = 1

[tool.comfydock.workflows."${name}"]
path = "workflows/x.json"
nodes = []
`

async function setup (name: string): Promise<{ ws: Workspace, victim: string, text: string }> {
  const base = join(root, name)
  const { workspace: ws } = await Workspace.init(join(base, 'ws'))
  // what .cec/workflows/../../../../../victim.json names
  const victim = join(base, 'victim.json')
  const text = '{"mine": true}\n'
  writeFileSync(victim, text)
  return { ws, victim, text }
}

function expectRefused (res: { code: number, stderr: string }): void {
  expect(res.code).not.toBe(0)
  expect(res.stderr).toContain('tool.comfydock.workflows."../../../../../victim"')
  expect(res.stderr).not.toMatch(/\n\s+at /)
}

describe('a workflow name that climbs out of the workflow folders', () => {
  it('import refuses the bundle', async () => {
    const { ws, victim, text } = await setup('import')
    const bundle = writeBundle(join(root, 'evil-wf.tar.gz'), {
      'manifest.json': JSON.stringify(bundleManifest('evil', ['x.json'])),
      'pyproject.toml': manifest('../../../../../victim'),
      '.python-version': '3.11\n',
      'workflows/x.json': '{"nodes": []}',
    })
    const res = runCli(['import', bundle, '--yes', '--models', 'skip'], { workspace: ws.root })
    expect(readFileSync(victim, 'utf8')).toBe(text)
    expect(existsSync(join(ws.root, 'environments', 'evil'))).toBe(false)
    expectRefused(res)
  })

  it.each([
    ['status', ['status']],
    ['workflow list', ['workflow', 'list']],
    ['an ordinary commit', ['commit', '-m', 'tidy up']],
  ])('%s refuses the manifest and deletes nothing outside', async (_what, args) => {
    const { ws, victim, text } = await setup(args[0])
    envOnDisk(ws.root, 'e', manifest('../../../../../victim'))
    const res = runCli(['-e', 'e', ...args, '--yes'], { workspace: ws.root })
    expect(readFileSync(victim, 'utf8')).toBe(text)
    expectRefused(res)
  })

  it('the workflow stores check the name again where it becomes a file', () => {
    const env = envPaths(root, 'e')
    for (const bad of ['../../../../../victim', '../x', 'a/b', 'a\\b', 'con']) {
      expect(() => snapshotFile(env, bad)).toThrow(expect.objectContaining({ code: 'UNSAFE_PATH' }))
      expect(() => userWorkflowFile(env, bad)).toThrow(expect.objectContaining({ code: 'UNSAFE_PATH' }))
    }
    expect(snapshotFile(env, 'my flow ü')).toBe(join(env.cecWorkflows, 'my flow ü.json'))
  })
})
