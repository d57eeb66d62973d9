import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { runCli } from '../support/cli'
import { makeEnvFixture } from './env-fixture'

const wf = (nodes: unknown[], extra: Record<string, unknown> = {}) => ({ version: 0.4, nodes, links: [], ...extra })
const ckpt = (v: string, extra: Record<string, unknown> = {}) => ({ id: 4, type: 'CheckpointLoaderSimple', widgets_values: [v], ...extra })

describe('workflow commands in an environment', () => {
  it('track, list, status, commit (blocked, then allowed), show', async () => {
    const f = await makeEnvFixture()
    const cli = (...args: string[]) => runCli(args, { workspace: f.ws.root })
    await f.addModels({ 'checkpoints/have.safetensors': 'have' })
    f.saveWorkflow('ok', wf([ckpt('have.safetensors')]))
    f.saveWorkflow('needs', wf([ckpt('gone.safetensors')], { models: [{ name: 'gone.safetensors', url: 'https://example.invalid/gone.safetensors', directory: 'checkpoints' }] }))

    expect(cli('workflow', 'track').stderr).toContain('name a workflow or pass --all')
    expect(cli('workflow', 'track', '--all', '--json').json()).toEqual({ tracked: ['needs', 'ok'] })
    expect(cli('workflow', 'list', '--json').json().workflows.map((w: any) => w.state)).toEqual(['new', 'new'])

    const status = cli('workflow', 'status')
    expect(status.code).toBe(0)
    expect(status.stdout).toContain('model checkpoints/gone.safetensors (unresolved, downloadable, flexible)')
    expect(status.stdout).toContain('→ comfydock workflow resolve needs --install')

    const blocked = cli('commit', '-m', 'first')
    expect(blocked.code).toBe(1)
    expect(blocked.stderr).toContain('error[WORKFLOW_UNRESOLVED]')
    expect(blocked.stderr).toContain('needs: checkpoints/gone.safetensors is missing')
    expect(blocked.stderr).toContain('--allow-issues')

    const done = cli('commit', '-m', 'first', '--allow-issues', '--json')
    expect(done.code, done.stderr).toBe(0)
    expect(done.json().changes.map((c: any) => c.path).sort()).toEqual(expect.arrayContaining(['workflows/needs.json', 'workflows/ok.json']))
    expect(readFileSync(f.env.pyproject, 'utf8')).toContain('[tool.comfydock.workflows.ok]')
    expect(cli('workflow', 'list', '--json').json().workflows.map((w: any) => w.state)).toEqual(['synced', 'synced'])

    const show = cli('workflow', 'show', 'ok')
    expect(show.stdout).toMatch(/ok\s+checkpoints\/have\.safetensors → checkpoints\/have\.safetensors/)
  })

  it('resolve --yes leaves ambiguity alone and says so; importance makes a model optional', async () => {
    const f = await makeEnvFixture()
    const cli = (...args: string[]) => runCli(args, { workspace: f.ws.root })
    await f.addModels({ 'loras/a/style.safetensors': 'first', 'loras/b/style.safetensors': 'second' })
    f.saveWorkflow('w', wf([{ id: 1, type: 'LoraLoaderModelOnly', widgets_values: ['style.safetensors', 1] }]))
    cli('workflow', 'track', 'w')
    const r = cli('workflow', 'resolve', 'w', '--yes')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('2 candidates: loras/a/style.safetensors, loras/b/style.safetensors')
    expect(r.stdout).toContain('left unresolved (--yes never picks a model)')
    const imp = cli('workflow', 'model', 'importance', 'w', 'style.safetensors', 'optional', '--json')
    expect(imp.json()).toEqual({ workflow: 'w', model: 'style.safetensors', criticality: 'optional' })
    expect(cli('commit', '-m', 'ok now').code).toBe(0)
  })

  it('restore refuses to drop uncommitted changes without --yes, then restores', async () => {
    const f = await makeEnvFixture()
    const cli = (...args: string[]) => runCli(args, { workspace: f.ws.root })
    f.saveWorkflow('w', wf([ckpt('v1.safetensors')]))
    cli('workflow', 'track', 'w')
    expect(cli('commit', '-m', 'v1', '--allow-issues').code).toBe(0)
    f.saveWorkflow('w', wf([ckpt('mine.safetensors')]))
    const refused = cli('workflow', 'restore', 'w')
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('CONFIRMATION_REQUIRED')
    expect(readFileSync(`${f.env.userWorkflows}/w.json`, 'utf8')).toContain('mine.safetensors')
    const ok = cli('workflow', 'restore', 'w', '--yes', '--json')
    expect(ok.json()).toEqual(expect.objectContaining({ name: 'w', written: true }))
    expect(readFileSync(`${f.env.userWorkflows}/w.json`, 'utf8')).toContain('v1.safetensors')
  })

  it('analyze inside a workspace also shows the resolution', async () => {
    const f = await makeEnvFixture()
    await f.addModels({ 'checkpoints/have.safetensors': 'have' })
    const file = f.saveWorkflow('x', wf([ckpt('have.safetensors')]))
    const r = runCli(['workflow', 'analyze', file, '--json'], { workspace: f.ws.root })
    expect(r.json().resolution.models[0]).toEqual(expect.objectContaining({ status: 'resolved', relative_path: 'checkpoints/have.safetensors' }))
  })
})
