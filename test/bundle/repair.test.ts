import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exportEnvironment, importBundle } from '../../sidecar/bundle'
import { getRepairStatus, planRepair } from '../../sidecar/env/repair'
import { readManifest, writeManifest } from '../../sidecar/manifest'
import { ModelIndex, shortHash } from '../../sidecar/models'
import type { Workspace } from '../../sidecar/workspace'
import { runCli, runCliAsync } from '../support/cli'
import { makeTempDir } from '../support/temp-dir'
import { CORPUS } from './support/env-on-disk'
import { makeWorld, type World } from './support/world'

let world: World
let bundle: string

const git = (dir: string, args: string[]): string =>
  execFileSync('git', ['-C', dir, '-c', 'user.name=T', '-c', 'user.email=t@t', ...args], { encoding: 'utf8' }).trim()

async function importedEnv (name: string): Promise<Workspace> {
  const ws = await world.newWorkspace(`ws-${name}`)
  const res = await importBundle(ws, bundle, { name: 'env', models: 'all' })
  expect(res.ok).toBe(true)
  return ws
}

beforeAll(async () => {
  world = await makeWorld(makeTempDir('repair-world'))
  bundle = (await exportEnvironment(world.src.ws, world.src.env, { output: join(world.root, 'b.tar.gz') })).path
}, 240_000)
afterAll(async () => { await world?.close() })

describe('repair', () => {
  it('says nothing needs repair right after an import', async () => {
    const ws = await importedEnv('clean')
    const res = runCli(['-e', 'env', 'repair', '--json'], { workspace: ws.root })
    expect(res.code, res.stderr).toBe(0)
    expect(res.json()).toMatchObject({ applied: false, plan: { upToDate: true } })
    const section = await getRepairStatus(ws, ws.env('env'), await readManifest(ws.env('env').pyproject))
    expect(section.ok).toBe(true)
  })

  it('downloads a model again after its file was deleted, after showing it in status and the plan', async () => {
    const ws = await importedEnv('deleted')
    const env = ws.env('env')
    const lost = world.models.controlnet
    rmSync(join(ws.modelsDir, lost.relPath))
    const section = await getRepairStatus(ws, env, await readManifest(env.pyproject))
    expect(section.ok).toBe(false)
    expect(section.summary).toContain('comfydock -e env repair')
    expect(section.missing_models).toEqual([{ filename: lost.filename, hash: lost.hash, criticality: 'required', workflows: ['canny_workflow'], has_source: true }])

    const dry = runCli(['-e', 'env', 'repair', '--dry-run'], { workspace: ws.root })
    expect(dry.stdout).toContain(`Models: download ${lost.filename} (required, for canny_workflow)`)
    expect(existsSync(join(ws.modelsDir, lost.relPath))).toBe(false)

    const res = await runCliAsync(['-e', 'env', 'repair', '--yes'], { workspace: ws.root })
    expect(res.code, res.stderr).toBe(0)
    expect(res.stdout).toContain('Models: 1 downloaded')
    expect(readFileSync(join(ws.modelsDir, lost.relPath)).equals(lost.data)).toBe(true)
    expect((await planRepair(ws, env)).upToDate).toBe(true)
  })

  it('finds a model moved to another folder without an index sync, instead of downloading it again', async () => {
    const ws = await importedEnv('moved')
    const env = ws.env('env')
    const moved = world.models.checkpoint
    mkdirSync(join(ws.modelsDir, 'checkpoints', 'sdxl'))
    renameSync(join(ws.modelsDir, moved.relPath), join(ws.modelsDir, 'checkpoints', 'sdxl', moved.filename))
    // status reads the index as it is; repair syncs it before deciding what to download
    expect((await getRepairStatus(ws, env, await readManifest(env.pyproject))).ok).toBe(false)
    const requests = world.files.requests.length
    const res = await runCliAsync(['-e', 'env', 'repair', '--yes', '--json'], { workspace: ws.root })
    expect(res.code, res.stderr).toBe(0)
    expect(res.json()).toMatchObject({ applied: false, plan: { upToDate: true } })
    expect(world.files.requests.length).toBe(requests)
    expect(existsSync(join(ws.modelsDir, moved.relPath))).toBe(false)
    expect((await getRepairStatus(ws, env, await readManifest(env.pyproject))).ok).toBe(true)
  })

  it('brings in the model and workflow a `git pull` of the manifest adds', async () => {
    const ws = await importedEnv('pull')
    const env = ws.env('env')
    // another machine: a clone of .cec that adds a workflow using a new model, committed
    const other = join(world.root, 'other-cec')
    git(world.root, ['clone', '-q', env.cec, other])
    const data = Buffer.alloc(150_000, 42)
    writeFileSync(join(world.root, 'upscaler.pth'), data)
    world.files.file('/files/upscaler.pth', data)
    const hash = await shortHash(join(world.root, 'upscaler.pth'))
    copyFileSync(join(CORPUS, 'workflows', 'esrgan_example.json'), join(other, 'workflows', 'esrgan_example.json'))
    const doc = await readManifest(join(other, 'pyproject.toml'))
    doc.tool.comfydock.workflows!.esrgan_example = {
      path: 'workflows/esrgan_example.json', nodes: [],
      models: [{ filename: 'upscaler.pth', category: 'upscale_models', criticality: 'required', status: 'resolved', nodes: [], hash }],
    }
    doc.tool.comfydock.models![hash] = { filename: 'upscaler.pth', size: data.length, relative_path: 'upscale_models/upscaler.pth', category: 'upscale_models', sources: [`${world.files.url}/files/upscaler.pth`] }
    await writeManifest(join(other, 'pyproject.toml'), doc)
    git(other, ['add', '-A'])
    git(other, ['commit', '-qm', 'Add an upscaling workflow'])
    git(env.cec, ['pull', '-q', other, 'main'])

    const plan = await planRepair(ws, env)
    expect(plan.workflows.restore).toEqual(['esrgan_example'])
    expect(plan.models.download.map(m => m.filename)).toEqual(['upscaler.pth'])
    const res = await runCliAsync(['-e', 'env', 'repair', '--yes', '--json'], { workspace: ws.root })
    expect(res.code, res.stderr).toBe(0)
    expect(res.json()).toMatchObject({ applied: true, ok: true, workflows: { restored: ['esrgan_example'] } })
    expect(readFileSync(join(env.userWorkflows, 'esrgan_example.json')).equals(readFileSync(join(CORPUS, 'workflows', 'esrgan_example.json')))).toBe(true)
    const index = ModelIndex.open(ws)
    try {
      expect(index.get(hash)?.locations.map(l => l.relPath)).toEqual(['upscale_models/upscaler.pth'])
    } finally {
      index.close()
    }
  })

  it('reinstalls a deleted pack, keeps extras unless asked, and deletes them only with --remove-extras', async () => {
    const ws = await importedEnv('extras')
    const env = ws.env('env')
    rmSync(join(env.customNodes, 'ComfyUI-Impact-Pack'), { recursive: true })
    mkdirSync(join(env.customNodes, 'someone-elses-pack'))
    writeFileSync(join(env.customNodes, 'someone-elses-pack', '__init__.py'), '')
    writeFileSync(join(env.userWorkflows, 'scratch.json'), '{"nodes": []}')

    const res = await runCliAsync(['-e', 'env', 'repair', '--yes'], { workspace: ws.root })
    expect(res.code, res.stderr).toBe(0)
    expect(res.stderr).toContain('Packs: install comfyui-impact-pack')
    expect(res.stderr).toContain('kept (not in the manifest): packs someone-elses-pack')
    expect(res.stderr).toContain('kept (not committed): workflows scratch')
    expect(readFileSync(join(env.customNodes, 'ComfyUI-Impact-Pack', '__init__.py'), 'utf8')).toBe('V = "8.1.0"\n')
    expect(existsSync(join(env.customNodes, 'someone-elses-pack'))).toBe(true)
    expect(existsSync(join(env.userWorkflows, 'scratch.json'))).toBe(true)

    const dry = runCli(['-e', 'env', 'repair', '--remove-extras', '--dry-run'], { workspace: ws.root })
    expect(dry.stdout).toContain('DELETE packs not in the manifest: someone-elses-pack')
    expect(dry.stdout).toContain('DELETE uncommitted workflows: scratch')
    expect(existsSync(join(env.customNodes, 'someone-elses-pack'))).toBe(true)
    const del = runCli(['-e', 'env', 'repair', '--remove-extras', '--yes'], { workspace: ws.root })
    expect(del.code, del.stderr).toBe(0)
    expect(existsSync(join(env.customNodes, 'someone-elses-pack'))).toBe(false)
    expect(existsSync(join(env.userWorkflows, 'scratch.json'))).toBe(false)
    expect(existsSync(join(env.userWorkflows, 'default.json'))).toBe(true)
  })

  it('downloads a model added with `model add` and no workflow, which status shows as added to the environment', async () => {
    const ws = await importedEnv('explicit')
    const env = ws.env('env')
    world.files.file('/files/4x_extra.pth', Buffer.from('an upscaler this environment wants though no workflow uses it yet'))
    const add = await runCliAsync(['-e', 'env', 'model', 'add', `${world.files.url}/files/4x_extra.pth`, '--category', 'upscale_models', '--json'], { workspace: ws.root })
    expect(add.code, add.stderr).toBe(0)
    const added = add.json() as { hash: string, criticality: string, workflows: string[] }
    expect(added).toMatchObject({ criticality: 'flexible', workflows: [] })

    rmSync(join(ws.modelsDir, 'upscale_models/4x_extra.pth'))
    const section = await getRepairStatus(ws, env, await readManifest(env.pyproject))
    expect(section.missing_models).toEqual([{ filename: '4x_extra.pth', hash: added.hash, criticality: 'flexible', workflows: [], has_source: true }])
    expect(section.details).toContain('model 4x_extra.pth missing (flexible, added to the environment)')
    const res = await runCliAsync(['-e', 'env', 'repair', '--yes'], { workspace: ws.root })
    expect(res.code, res.stderr).toBe(0)
    expect(res.stdout).toContain('Models: 1 downloaded')
    expect(existsSync(join(ws.modelsDir, 'upscale_models/4x_extra.pth'))).toBe(true)
  })

  it('downloads only required models with --models required and lists the rest as skipped', async () => {
    const ws = await importedEnv('required')
    const env = ws.env('env')
    for (const m of Object.values(world.models)) rmSync(join(ws.modelsDir, m.relPath))
    const plan = await planRepair(ws, env, { models: 'required' })
    expect(plan.models.download.map(m => m.filename).sort()).toEqual(['control_canny.safetensors', 'sd_xl_base_1.0.safetensors'])
    expect(plan.models.skipped.map(m => m.filename)).toEqual(['detail_lora.safetensors'])
  })
})
