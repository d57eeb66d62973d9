import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exportEnvironment, importBundle } from '../../sidecar/bundle'
import { readManifest, serializeManifest } from '../../sidecar/manifest'
import { ModelIndex } from '../../sidecar/models'
import { runCli, runCliAsync } from '../support/cli'
import { makeTempDir } from '../support/temp-dir'
import { writeRawTarGz } from './support/raw-tar'
import { makeWorld, WORKFLOWS, type World } from './support/world'

let world: World
let bundle: string

const git = (dir: string, args: string[]): string => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim()
const envDirs = (wsRoot: string): string[] => (existsSync(join(wsRoot, 'environments')) ? readdirSync(join(wsRoot, 'environments')) : [])

beforeAll(async () => {
  world = await makeWorld(makeTempDir('import-world'))
  bundle = join(world.root, 'portraits.tar.gz')
  const res = runCli(['-e', 'portraits', 'export', bundle], { workspace: world.src.ws.root })
  expect(res.code, res.stderr).toBe(0)
}, 240_000)
afterAll(async () => { await world?.close() })

describe('import round trip', () => {
  it('recreates the environment in a second workspace: same manifest and workflows, packs installed, models downloaded and verified', async () => {
    const ws = await world.newWorkspace('ws-dst')
    const res = await runCliAsync(['import', bundle, '--name', 'copy', '--models', 'all', '--yes'], { workspace: ws.root })
    expect(res.code, res.stderr).toBe(0)
    expect(res.stdout).toContain('Import complete: copy')
    expect(res.stdout).toContain('Custom nodes: 2/2 registry/git installed, 1 development (bundled)')
    expect(res.stdout).toContain('Models (all): 0 found locally, 3 downloaded, 0 failed, 0 skipped')
    expect(res.stderr).toContain('Import summary:')
    expect(res.stderr).toContain('Source: portraits')

    const src = world.src.env
    const dst = ws.env('copy')
    const a = await readManifest(src.pyproject)
    const b = await readManifest(dst.pyproject)
    for (const table of ['nodes', 'workflows', 'models', 'comfyui_version', 'comfyui_commit_sha'] as const) {
      expect(b.tool.comfydock[table], table).toEqual(a.tool.comfydock[table])
    }
    expect(b.project.dependencies).toEqual(a.project.dependencies)
    expect(b['dependency-groups']).toEqual(a['dependency-groups'])
    for (const wf of WORKFLOWS) {
      expect(readFileSync(join(dst.cecWorkflows, wf)).equals(readFileSync(join(src.cecWorkflows, wf))), wf).toBe(true)
      expect(readFileSync(join(dst.userWorkflows, wf)).equals(readFileSync(join(src.cecWorkflows, wf))), wf).toBe(true)
    }
    expect(readFileSync(join(dst.customNodes, 'ComfyUI-Impact-Pack', '__init__.py'), 'utf8')).toBe('V = "8.1.0"\n')
    expect(git(join(dst.customNodes, 'my-git-pack'), ['rev-parse', 'HEAD'])).toBe(world.gitPack.commits[0])
    expect(readFileSync(join(dst.customNodes, 'my-dev-node', 'web', 'ui.js'), 'utf8')).toBe('export {}\n')
    expect(existsSync(join(dst.customNodes, 'my-dev-node', 'cache'))).toBe(false)

    const index = ModelIndex.open(ws)
    try {
      for (const m of Object.values(world.models)) {
        expect(readFileSync(join(ws.modelsDir, m.relPath)).equals(m.data), m.filename).toBe(true)
        expect(index.get(m.hash)?.locations.map(l => l.relPath)).toEqual([m.relPath])
      }
    } finally {
      index.close()
    }
    expect(git(dst.cec, ['log', '--format=%s'])).toBe('Initial import from bundle')
    expect(git(dst.cec, ['status', '--porcelain'])).toBe('')
    expect(existsSync(dst.completeMarker)).toBe(true)
  })

  it('imports into NAME-1 when the name is taken, downloads only required models by default, and finds local ones in the index', async () => {
    const ws = await world.newWorkspace('ws-collide')
    const first = await importBundle(ws, bundle, { models: 'skip' })
    expect(first.name).toBe('portraits')
    expect(first.models.skipped.sort()).toEqual(['control_canny.safetensors', 'detail_lora.safetensors', 'sd_xl_base_1.0.safetensors'])
    const notes: string[] = []
    const second = await importBundle(ws, bundle, { onProgress: e => { if (e.phase === 'note' && e.message) notes.push(e.message) } })
    expect(second.name).toBe('portraits-1')
    expect(second.preview.requested_name).toBe('portraits')
    expect(notes).toContain('environment "portraits" exists, using "portraits-1"')
    // canny needs the checkpoint and the controlnet (required); the lora is only optional
    expect(second.models.strategy).toBe('required')
    expect(second.models.downloaded.map(d => d.filename).sort()).toEqual(['control_canny.safetensors', 'sd_xl_base_1.0.safetensors'])
    expect(second.models.skipped).toEqual(['detail_lora.safetensors'])
    const third = await importBundle(ws, bundle, { name: 'again', models: 'required' })
    expect(third.models.local.sort()).toEqual(['control_canny.safetensors', 'sd_xl_base_1.0.safetensors'])
    expect(third.models.downloaded).toEqual([])
  }, 180_000)

  it('finds models already in the models folder but never indexed: downloads nothing, says it indexed them, status is clean', async () => {
    const ws = await world.newWorkspace('ws-unindexed')
    for (const m of Object.values(world.models)) {
      mkdirSync(join(ws.modelsDir, m.relPath, '..'), { recursive: true })
      writeFileSync(join(ws.modelsDir, m.relPath), m.data)
    }
    const modelRequests = (): number => world.files.requests.filter(r => r.path.startsWith('/files/')).length
    const before = modelRequests()
    const res = await runCliAsync(['import', bundle, '--name', 'found', '--models', 'all', '--yes'], { workspace: ws.root })
    expect(res.code, res.stderr).toBe(0)
    expect(res.stdout).toContain('Models (all): 3 found locally, 0 downloaded, 0 failed, 0 skipped')
    expect(res.stderr).toContain('model index: 3 new, 0 moved, 0 changed file(s) indexed')
    expect(modelRequests()).toBe(before)
    expect(res.stderr).toContain('scan models')
    // once the index has them all, an import walks no folder
    const again = await runCliAsync(['import', bundle, '--name', 'again', '--models', 'all', '--yes'], { workspace: ws.root })
    expect(again.stdout).toContain('Models (all): 3 found locally, 0 downloaded')
    expect(again.stderr).not.toContain('scan models')

    // (the corpus workflows lack packs and models this world never provides: only the bundle's models count)
    const status = await runCliAsync(['-e', 'found', 'status', '--json'], { workspace: ws.root })
    const sections = status.json().sections as { repair: { ok: boolean, missing_models: unknown[] }, workflows: { workflows: Array<{ missing_models: Array<{ filename: string }> }> } }
    expect(sections.repair, status.stdout).toMatchObject({ ok: true, missing_models: [] })
    const stillMissing = sections.workflows.workflows.flatMap(w => w.missing_models.map(m => m.filename))
    for (const m of Object.values(world.models)) expect(stillMissing).not.toContain(m.filename)
  })

  it('completes with a correct summary when a pack 404s and a model answers 500', async () => {
    const root = makeTempDir('partial')
    const stage = join(root, 'stage')
    mkdirSync(stage)
    execFileSync('tar', ['xzf', bundle, '-C', stage])
    const doc = await readManifest(join(stage, 'pyproject.toml'))
    doc.tool.comfydock.nodes!['gone-pack'] = { name: 'gone-pack', registry_id: 'gone-pack', version: '1.0.0', source: 'registry', download_url: `${world.registry.url}/files/gone-pack/1.0.0/node.zip` }
    const broken = world.models.controlnet
    world.files.faults(`/files/${broken.filename}`, ...Array.from({ length: 12 }, () => ({ status: 500 })))
    writeFileSync(join(stage, 'pyproject.toml'), serializeManifest(doc))
    const edited = join(root, 'edited.tar.gz')
    execFileSync('tar', ['czf', edited, '-C', stage, '.'])

    const ws = await world.newWorkspace('ws-partial')
    const res = await importBundle(ws, edited, { name: 'partial', models: 'all' })
    expect(res.ok).toBe(false)
    expect(res.nodes.installed.sort()).toEqual(['comfyui-impact-pack', 'my-git-pack'])
    expect(res.nodes.failed.map(f => f.id)).toEqual(['gone-pack'])
    expect(res.nodes.failed[0].error.message).toMatch(/404/)
    expect(res.models.downloaded.map(d => d.filename).sort()).toEqual(['detail_lora.safetensors', 'sd_xl_base_1.0.safetensors'])
    expect(res.models.failed.map(f => f.filename)).toEqual([broken.filename])
    expect(res.models.failed[0].error.message).toMatch(/500/)
    expect(res.next_steps.join('\n')).toContain('comfydock -e partial repair')
    expect(git(ws.env('partial').cec, ['log', '--format=%s'])).toBe('Initial import from bundle')

    // From the CLI the same partial import exits 1, so scripts notice what is left to repair.
    world.files.faults(`/files/${broken.filename}`, ...Array.from({ length: 12 }, () => ({ status: 500 })))
    const ws2 = await world.newWorkspace('ws-partial-cli')
    const cli = await runCliAsync(['import', edited, '--name', 'partial', '--models', 'all', '--yes', '--json'], { workspace: ws2.root })
    expect(cli.code, cli.stderr).toBe(1)
    expect(cli.json()).toMatchObject({ ok: false, name: 'partial' })
  }, 180_000)

  it('imports a bundle from its https URL, and says what it takes for a URL that is neither a bundle nor a repository', async () => {
    world.files.file('/shared/portraits.tar.gz', readFileSync(bundle))
    const ws = await world.newWorkspace('ws-url')
    const res = await runCliAsync(['import', `${world.files.url}/shared/portraits.tar.gz`, '--name', 'from-url', '--models', 'skip', '--yes'], { workspace: ws.root })
    expect(res.code, res.stderr).toBe(0)
    expect(res.stdout).toContain('Import complete: from-url')
    const src = await readManifest(world.src.env.pyproject)
    expect((await readManifest(ws.env('from-url').pyproject)).tool.comfydock.nodes).toEqual(src.tool.comfydock.nodes)
    // the download's temp folder is gone
    expect(readdirSync(join(ws.root, 'cache', 'tmp'))).toEqual([])

    const missing = await runCliAsync(['import', `${world.files.url}/shared/absent.tar.gz`, '--yes', '--json'], { workspace: ws.root })
    expect(missing.code).not.toBe(0)
    expect(missing.json<{ error: { code: string, message: string } }>().error).toMatchObject({ code: 'DOWNLOAD_FAILED', message: expect.stringContaining('absent.tar.gz') })
    const page = await runCliAsync(['import', `${world.files.url}/shared/index.html`, '--yes', '--json'], { workspace: ws.root })
    // any other URL is tried as a git repository, and the error says what import takes
    expect(page.json<{ error: { code: string, hint: string } }>().error).toMatchObject({ code: 'REMOTE_NOT_FOUND', hint: expect.stringContaining('.tar.gz bundle') })
    expect(envDirs(ws.root)).toEqual(['from-url'])
  })

  it('refuses without --yes when it cannot ask, and leaves no environment behind', async () => {
    const ws = await world.newWorkspace('ws-noconfirm')
    const res = runCli(['import', bundle], { workspace: ws.root })
    expect(res.code).toBe(1)
    expect(res.stderr).toContain('error[CONFIRMATION_REQUIRED]')
    expect(res.stderr).toContain('Re-run with --yes')
    expect(envDirs(ws.root)).toEqual([])
  })

  it('rejects a hostile bundle before touching the workspace', async () => {
    const ws = await world.newWorkspace('ws-hostile')
    const evil = writeRawTarGz(join(world.root, 'evil.tar.gz'), [
      { path: 'pyproject.toml', data: '[project]\nname = "x"\n' },
      { path: '../../escaped.txt', data: 'pwned' },
    ])
    const res = runCli(['import', evil, '--yes'], { workspace: ws.root })
    expect(res.code).toBe(1)
    expect(res.stderr).toContain('bundle appears corrupted: entry "../../escaped.txt" points outside the bundle')
    expect(envDirs(ws.root)).toEqual([])
    expect(existsSync(join(world.root, 'escaped.txt'))).toBe(false)
  })

  it('rejects links outside a development node, which could reach other folders once copied', async () => {
    const ws = await world.newWorkspace('ws-links')
    const sneaky = writeRawTarGz(join(world.root, 'sneaky.tar.gz'), [
      { path: 'pyproject.toml', data: '[project]\nname = "x"\n[tool.comfydock]\ncomfyui_version = "v0.3.7"\n' },
      { path: 'workflows/w.json', type: 'SymbolicLink', linkpath: '../pyproject.toml' },
    ])
    const res = runCli(['import', sneaky, '--yes'], { workspace: ws.root })
    expect(res.stderr).toContain('bundle appears corrupted: link "workflows/w.json" points outside its development node')
    expect(envDirs(ws.root)).toEqual([])
  })

  it('rejects a bundle whose pyproject does not parse, with the line and column', async () => {
    const ws = await world.newWorkspace('ws-badtoml')
    const bad = writeRawTarGz(join(world.root, 'badtoml.tar.gz'), [{ path: 'pyproject.toml', data: '[project\nname = 1\n' }])
    const res = runCli(['import', bad, '--yes', '--json'], { workspace: ws.root })
    expect(res.code).toBe(1)
    expect(res.json().error.code).toBe('BUNDLE_CORRUPT')
    expect(res.json().error.message).toMatch(/^bundle appears corrupted: pyproject.toml:1:\d+/)
    expect(envDirs(ws.root)).toEqual([])
  })

  it('refuses a newer bundle format with an upgrade hint', async () => {
    const ws = await world.newWorkspace('ws-newer')
    const newer = writeRawTarGz(join(world.root, 'newer.tar.gz'), [
      { path: 'manifest.json', data: JSON.stringify({ format: 'comfydock-bundle', format_version: 9 }) },
      { path: 'pyproject.toml', data: '[project]\nname = "x"\n' },
    ])
    const res = runCli(['import', newer, '--yes'], { workspace: ws.root })
    expect(res.stderr).toContain('error[BUNDLE_UNSUPPORTED_VERSION]: bundle format version 9 is newer')
    expect(res.stderr).toContain('Upgrade comfydock')
    expect(envDirs(ws.root)).toEqual([])
  })

  it('removes the environment completely when creating it fails', async () => {
    const ws = await world.newWorkspace('ws-fail')
    await ws.setConfig('comfyui_source', join(world.root, 'no-such-comfyui'))
    const err = await importBundle(ws, bundle, { models: 'skip' }).catch(e => e)
    expect(err.code).toBe('COMFYUI_SOURCE_UNAVAILABLE')
    expect(envDirs(ws.root)).toEqual([])
  })
})

describe('export of an imported environment', () => {
  it('gives a bundle with the same content as the original', async () => {
    const ws = await world.newWorkspace('ws-reexport')
    await importBundle(ws, bundle, { models: 'skip' })
    const again = await exportEnvironment(ws, ws.env('portraits'), { output: join(world.root, 'again.tar.gz') })
    const list = (f: string): string[] => execFileSync('tar', ['tzf', f], { encoding: 'utf8' }).split('\n').sort()
    expect(list(again.path)).toEqual(list(bundle))
  })
})
