/**
 * Finding 10 of issue 11: commands that claimed what was not so. Each case runs the command a user runs
 * (the built CLI, or the core it is thin over) against real files, a real model index and a loopback
 * server, and checks the exit code and the words.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { exportEnvironment } from '../../sidecar/bundle'
import { bundleModelNeeds } from '../../sidecar/bundle/import-preview'
import { withOpenedBundle } from '../../sidecar/bundle/open-bundle'
import { getRepairStatus } from '../../sidecar/env/repair'
import { readManifest } from '../../sidecar/manifest'
import { listManifestModels, syncIndex } from '../../sidecar/models'
import { prepareWorkflowCommit, resolveWorkflow, trackWorkflows } from '../../sidecar/workflows'
import { makeEnvOnDisk } from '../bundle/support/env-on-disk'
import { runCli, runCliAsync } from '../support/cli'
import { startFileServer } from '../support/file-server'
import { makeTempDir } from '../support/temp-dir'
import { makeEnvFixture } from '../workflows/env-fixture'

const wf = (nodes: unknown[], extra: Record<string, unknown> = {}) => ({ version: 0.4, nodes, links: [], ...extra })
const ckpt = (v: string) => ({ id: 4, type: 'CheckpointLoaderSimple', widgets_values: [v] })

describe('commands tell the truth (finding 10)', () => {
  it('workflow resolve --install --yes exits non-zero when a download failed and names what failed', async () => {
    const server = await startFileServer()
    try {
      const f = await makeEnvFixture()
      await f.addModels({ 'checkpoints/have.safetensors': 'have' })
      f.saveWorkflow('w', wf([ckpt('have.safetensors'), { id: 5, type: 'VAELoader', widgets_values: ['gone.safetensors'] }], {
        models: [{ name: 'gone.safetensors', url: `${server.url}/files/gone.safetensors`, directory: 'vae' }],
      }))
      await trackWorkflows(f.env, ['w'])
      const r = await runCliAsync(['workflow', 'resolve', 'w', '--install', '--yes'], { workspace: f.ws.root })
      expect(r.code, r.stdout + r.stderr).toBe(1)
      expect(r.stdout).toContain('failed vae/gone.safetensors')
      expect(r.stdout).toMatch(/1 of 1 download failed/)
      expect(r.stdout).not.toContain('Resolved.')
      const json = await runCliAsync(['workflow', 'resolve', 'w', '--install', '--yes', '--json'], { workspace: f.ws.root })
      expect(json.code).toBe(1)
      expect(json.json().failed).toEqual([expect.objectContaining({ subject: 'vae/gone.safetensors' })])
    } finally {
      await server.close()
    }
  })

  it('model list includes the models a workflow needs that no file matches, marked missing', async () => {
    const f = await makeEnvFixture()
    f.saveWorkflow('w', wf([ckpt('absent.safetensors')]))
    await trackWorkflows(f.env, ['w'])
    await prepareWorkflowCommit(f.ws, f.env, { allowIssues: true })
    const r = runCli(['model', 'list', '--json'], { workspace: f.ws.root })
    expect(r.code, r.stderr).toBe(0)
    expect(r.json().models).toEqual([expect.objectContaining({ filename: 'absent.safetensors', category: 'checkpoints', state: 'missing-no-source', workflows: ['w'] })])
    const human = runCli(['model', 'list'], { workspace: f.ws.root })
    expect(human.stdout).toMatch(/absent\.safetensors.*MISSING/)
    expect(human.stdout).not.toContain('No models in')
  })

  it('workflow show, model list and status agree on a same-name file with other bytes', async () => {
    const f = await makeEnvFixture()
    await f.addModels({ 'checkpoints/base.safetensors': 'committed bytes' })
    f.saveWorkflow('w', wf([ckpt('base.safetensors')]))
    await trackWorkflows(f.env, ['w'])
    await prepareWorkflowCommit(f.ws, f.env)
    const committed = (await readManifest(f.env.pyproject)).tool.comfydock.workflows!.w.models![0].hash!
    // another version of the model under the same name
    writeFileSync(join(f.ws.modelsDir, 'checkpoints', 'base.safetensors'), 'other bytes'.padEnd(64, '!'))
    await syncIndex(f.ws)

    const shown = await resolveWorkflow(f.ws, f.env, 'w', { yes: true, dryRun: true })
    expect(shown.models[0]).toMatchObject({ status: 'resolved', replaces: committed })
    const show = runCli(['workflow', 'show', 'w'], { workspace: f.ws.root })
    expect(show.stdout).toMatch(/changed\s+checkpoints\/base\.safetensors → checkpoints\/base\.safetensors/)
    expect(show.stdout).toContain(`other bytes than the committed model ${committed}`)
    expect(show.stdout).not.toMatch(/\bok\s+checkpoints\/base/)

    const status = await getRepairStatus(f.ws, f.env, await readManifest(f.env.pyproject))
    expect(status.details).toEqual([expect.stringContaining(`checkpoints/base.safetensors has other bytes than the committed model ${committed}`)])
    const listed = await listManifestModels(f.ws, f.env)
    expect(listed).toEqual([expect.objectContaining({ hash: committed, state: 'other-bytes', localPath: 'checkpoints/base.safetensors' })])
  })

  it('model index list --duplicates with none says there are none', async () => {
    const f = await makeEnvFixture()
    await f.addModels({ 'checkpoints/a.safetensors': 'a', 'loras/b.safetensors': 'b' })
    const r = runCli(['model', 'index', 'list', '--duplicates'], { workspace: f.ws.root })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('No duplicates')
    expect(r.stdout).not.toContain('No models indexed')
  })

  it('the export summary and the import of the same bundle count models the same way', async () => {
    const root = makeTempDir('counts')
    const a = 'a'.repeat(16)
    const c = 'c'.repeat(16)
    const { ws, env } = await makeEnvOnDisk(join(root, 'ws'), {
      name: 'counted',
      workflows: ['default.json'],
      models: {
        [a]: { filename: 'a.safetensors', size: 10, relative_path: 'checkpoints/a.safetensors', category: 'checkpoints', sources: ['https://example.test/a'] },
        // `model add` of a model no workflow names: the environment needs it too
        [c]: { filename: 'c.safetensors', size: 30, relative_path: 'loras/c.safetensors', category: 'loras', criticality: 'required' },
      },
      workflowEntries: {
        default: {
          models: [
            { filename: 'a.safetensors', category: 'checkpoints', criticality: 'flexible', status: 'resolved', nodes: [], hash: a },
            // no file yet, but a source: import downloads it
            { filename: 'b.safetensors', category: 'vae', criticality: 'flexible', status: 'unresolved', nodes: [], sources: ['https://example.test/b'] },
          ],
        },
      },
    })
    const res = await exportEnvironment(ws, env, { output: join(root, 'out.tar.gz'), allowIssues: true })
    const needs = await withOpenedBundle(res.path, bundle => bundleModelNeeds(ws, bundle))
    expect(res.summary.models).toBe(needs.length)
    expect(res.summary.models).toBe(3)
  })
})
