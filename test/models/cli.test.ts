import { execFileSync } from 'node:child_process'
import Database from 'better-sqlite3'
import { spawn } from 'node:child_process'
import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI, runCli, runCliAsync } from '../support/cli'
import { startFileServer, type FileServer } from '../support/file-server'
import { makeTempDir } from '../support/temp-dir'

function put (file: string, content: string | Buffer): void {
  mkdirSync(join(file, '..'), { recursive: true })
  writeFileSync(file, content)
}

/** A workspace with one environment "dev" whose manifest tracks workflow "portrait". */
function setup (): { ws: string, models: string, pyproject: string } {
  const ws = join(makeTempDir('cli'), 'ws')
  expect(runCli(['init', ws]).code).toBe(0)
  const pyproject = join(ws, 'environments', 'dev', '.cec', 'pyproject.toml')
  put(pyproject, [
    '[project]', 'name = "comfydock-env-dev"', 'version = "0.1.0"', 'dependencies = []', '',
    '[tool.comfydock]', 'comfyui_version = "v0.3.7"', '',
    '[tool.comfydock.workflows.portrait]', 'path = "workflows/portrait.json"', 'nodes = []', '',
  ].join('\n'))
  // Like every real environment, .cec is a git repository (commands that write it take a lock inside .git).
  execFileSync('git', ['init', '-q', join(ws, 'environments', 'dev', '.cec')])
  return { ws, models: join(ws, 'models'), pyproject }
}

describe('comfydock model index', () => {
  const { ws, models } = setup()
  put(join(models, 'checkpoints/sd15.safetensors'), 'checkpoint bytes 1')
  put(join(models, 'loras/a.safetensors'), 'lora bytes a')
  put(join(models, 'loras/copy/a.safetensors'), 'lora bytes a')
  put(join(models, 'loras/readme.md'), 'docs docs docs')

  it('syncs, lists by type and duplicates, finds and shows models as JSON', () => {
    const sync = runCli(['model', 'index', 'sync', '--json'], { workspace: ws })
    expect(sync.code).toBe(0)
    expect(sync.json()).toMatchObject({ models: 2, hashed: 3 })
    const loras = runCli(['model', 'index', 'list', '--type', 'loras', '--json'], { workspace: ws }).json().models
    expect(loras).toHaveLength(1)
    expect(loras[0].locations.map((l: any) => l.relPath)).toEqual(['loras/a.safetensors', 'loras/copy/a.safetensors'])
    expect(runCli(['model', 'index', 'list', '--duplicates', '--json'], { workspace: ws }).json().models).toHaveLength(1)
    const found = runCli(['model', 'index', 'find', 'sd15', '--json'], { workspace: ws }).json().models
    expect(found[0].locations[0].relPath).toBe('checkpoints/sd15.safetensors')
    const show = runCli(['model', 'index', 'show', found[0].hash.slice(0, 8), '--json'], { workspace: ws })
    expect(show.json()).toMatchObject({ hash: found[0].hash, size: 18, sources: [] })
    const human = runCli(['model', 'index', 'show', 'sd15.safetensors'], { workspace: ws })
    expect(human.stdout).toContain('checkpoints/sd15.safetensors')
  })

  it('computes full hashes on demand', () => {
    const r = runCli(['model', 'index', 'hash', '--all', '--json'], { workspace: ws })
    expect(r.code).toBe(0)
    expect(r.json().models).toHaveLength(2)
    for (const m of r.json().models) expect(m.sha256).toMatch(/^[0-9a-f]{64}$/)
    expect(runCli(['model', 'index', 'status', '--json'], { workspace: ws }).json()).toMatchObject({ models: 2, withFullHashes: 2 })
  })

  it('says which model is meant when a name is ambiguous, and how to find one that is missing', () => {
    const amb = runCli(['model', 'index', 'show', 'a.safetensors'], { workspace: ws })
    expect(amb.code).toBe(0) // two files, one model: not ambiguous
    const none = runCli(['model', 'index', 'show', 'nope.safetensors'], { workspace: ws })
    expect(none.code).toBe(1)
    expect(none.stderr).toMatch(/error\[MODEL_NOT_FOUND\].*\nhint: .*model index sync/)
  })

  it('tracks extra directories', () => {
    const extra = join(makeTempDir('extra'), 'more')
    put(join(extra, 'vae/x.safetensors'), 'vae bytes here')
    expect(runCli(['model', 'dir', 'add', extra], { workspace: ws }).code).toBe(0)
    expect(runCli(['model', 'dir', 'list', '--json'], { workspace: ws }).json().directories.map((d: any) => d.path)).toEqual([models, extra])
    runCli(['model', 'index', 'sync'], { workspace: ws })
    expect(runCli(['model', 'index', 'list', '--type', 'vae', '--json'], { workspace: ws }).json().models).toHaveLength(1)
    expect(runCli(['model', 'dir', 'remove', extra], { workspace: ws }).code).toBe(0)
    const bad = runCli(['model', 'dir', 'add', join(extra, 'nope')], { workspace: ws })
    expect(bad.stderr).toContain('error[MODEL_DIR_NOT_FOUND]')
  })
})

describe('comfydock model add/remove/list (environment manifest)', () => {
  const { ws, models, pyproject } = setup()
  put(join(models, 'checkpoints/base.safetensors'), 'base checkpoint bytes')
  put(join(models, 'controlnet/canny.safetensors'), 'controlnet bytes!!')

  it('adds models by name with per-folder criticality and by hash to a workflow', () => {
    runCli(['model', 'index', 'sync'], { workspace: ws })
    const add = runCli(['-e', 'dev', 'model', 'add', 'base.safetensors', '--json'], { workspace: ws })
    expect(add.code).toBe(0)
    expect(add.json()).toMatchObject({ filename: 'base.safetensors', category: 'checkpoints', criticality: 'flexible', state: 'present' })
    const hash = add.json().hash
    const text = readFileSync(pyproject, 'utf8')
    expect(text).toContain('[tool.comfydock.models')
    expect(text).toContain(hash)
    expect(text).toContain('relative_path = "checkpoints/base.safetensors"')

    const canny = runCli(['-e', 'dev', 'model', 'add', 'controlnet/canny.safetensors', '--workflow', 'portrait', '--json'], { workspace: ws })
    expect(canny.json()).toMatchObject({ criticality: 'required', workflows: ['portrait'] })
    expect(readFileSync(pyproject, 'utf8')).toMatch(/\[\[tool\.comfydock\.workflows\.portrait\.models\]\][^[]*criticality = "required"/)
  })

  it('refuses an untracked workflow and an unknown model, leaving the manifest as it was', () => {
    const before = readFileSync(pyproject, 'utf8')
    const wf = runCli(['-e', 'dev', 'model', 'add', 'base.safetensors', '--workflow', 'ghost'], { workspace: ws })
    expect(wf.stderr).toContain('error[WORKFLOW_NOT_TRACKED]')
    const none = runCli(['-e', 'dev', 'model', 'add', 'missing.safetensors', '--json'], { workspace: ws })
    expect(none.json().error.code).toBe('MODEL_NOT_FOUND')
    expect(readFileSync(pyproject, 'utf8')).toBe(before)
  })

  it('lists local state: present, missing with sources, missing without sources', () => {
    const list = (): any[] => runCli(['-e', 'dev', 'model', 'list', '--json'], { workspace: ws }).json().models
    expect(list().map(m => m.state)).toEqual(['present', 'present'])
    rmSync(join(models, 'checkpoints/base.safetensors'))
    rmSync(join(models, 'controlnet/canny.safetensors'))
    runCli(['model', 'index', 'sync'], { workspace: ws })
    const text = readFileSync(pyproject, 'utf8').replace(/(filename = "base.safetensors")/, '$1\nsources = [ "https://example.com/base.safetensors" ]')
    writeFileSync(pyproject, text)
    const states = Object.fromEntries(list().map(m => [m.filename, m.state]))
    expect(states).toEqual({ 'base.safetensors': 'missing', 'canny.safetensors': 'missing-no-source' })
    expect(runCli(['-e', 'dev', 'model', 'list'], { workspace: ws }).stdout).toContain('MISSING (no source)')
  })

  it('removes a model only after the workflows that use it let go', () => {
    const refused = runCli(['-e', 'dev', 'model', 'remove', 'canny.safetensors'], { workspace: ws })
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('--workflow portrait')
    expect(runCli(['-e', 'dev', 'model', 'remove', 'canny.safetensors', '--workflow', 'portrait'], { workspace: ws }).code).toBe(0)
    expect(runCli(['-e', 'dev', 'model', 'remove', 'canny.safetensors'], { workspace: ws }).code).toBe(0)
    expect(readFileSync(pyproject, 'utf8')).not.toContain('canny')
  })
})

describe('comfydock model download / find-source', () => {
  let server: FileServer
  const { ws, models } = setup()
  beforeAll(async () => {
    server = await startFileServer()
    runCli(['config', 'civitai_url', server.url], { workspace: ws })
  })
  afterAll(async () => { await server.close() })

  it('downloads into the category folder, and a second run fetches nothing', async () => {
    server.file('/f/style.safetensors', Buffer.alloc(100_000, 7))
    const url = `${server.url}/f/style.safetensors`
    const r = await runCliAsync(['model', 'download', url, '--category', 'loras', '--json'], { workspace: ws })
    expect(r.code).toBe(0)
    expect(r.json().models[0]).toMatchObject({ relPath: 'loras/style.safetensors', downloaded: true, sources: [{ type: 'url', url }] })
    expect(readFileSync(join(models, 'loras/style.safetensors')).length).toBe(100_000)
    const again = await runCliAsync(['model', 'download', url, '--category', 'loras'], { workspace: ws })
    expect(again.stdout).toContain('already have loras/style.safetensors')
    expect(server.requests.filter(q => q.path === '/f/style.safetensors')).toHaveLength(1)
  })

  it('adds a model to the environment by URL, downloading it first', async () => {
    server.file('/f/upscaler.pth', Buffer.alloc(70_000, 3))
    const url = `${server.url}/f/upscaler.pth`
    const r = await runCliAsync(['-e', 'dev', 'model', 'add', url, '--category', 'upscale_models', '--json'], { workspace: ws })
    expect(r.code).toBe(0)
    expect(r.json()).toMatchObject({ filename: 'upscaler.pth', category: 'upscale_models', criticality: 'flexible', state: 'present', sources: [url] })
    expect(readFileSync(join(ws, 'environments', 'dev', '.cec', 'pyproject.toml'), 'utf8')).toContain(url)
  })

  it('refuses a --path outside the models directory before downloading anything', async () => {
    const before = server.requests.length
    const r = await runCliAsync(['model', 'download', `${server.url}/f/x.bin`, '--path', '../escape.bin'], { workspace: ws })
    expect(r.stderr).toContain('error[PATH_OUTSIDE_WORKSPACE]')
    expect(server.requests.length).toBe(before)
  })

  it('fails with a hint when the URL gives no folder', async () => {
    server.file('/f/x.bin', 'xxxxxxxxxxxxxxxx')
    const r = await runCliAsync(['model', 'download', `${server.url}/f/x.bin`], { workspace: ws })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/error\[INVALID_ARGUMENT\].*\nhint: Pass `--category FOLDER`/)
  })

  it('records a source found on CivitAI by hash', async () => {
    put(join(models, 'loras/found.safetensors'), 'found me on civitai')
    runCli(['model', 'index', 'sync'], { workspace: ws })
    const sha = runCli(['model', 'index', 'hash', 'found.safetensors', '--json'], { workspace: ws }).json().models[0].sha256
    server.json(`/api/v1/model-versions/by-hash/${sha}`, { id: 55, modelId: 5, name: 'v1', model: { name: 'Found' } })
    const r = await runCliAsync(['model', 'find-source', 'found.safetensors', '--json'], { workspace: ws })
    expect(r.json().found).toEqual([{ type: 'civitai', url: `${server.url}/api/download/models/55` }])
    expect(runCli(['model', 'index', 'show', 'found.safetensors', '--json'], { workspace: ws }).json().sources).toHaveLength(1)
    expect(r.code).toBe(0)
  })

  it('exits 1 when no host knows the model, saying which were asked', async () => {
    put(join(models, 'loras/unknown.safetensors'), 'nobody published me')
    runCli(['model', 'index', 'sync'], { workspace: ws })
    const r = await runCliAsync(['model', 'find-source', 'unknown.safetensors'], { workspace: ws })
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/CivitAI does not know \w+\. Add a source by downloading it with `comfydock model download URL`\./)
    expect(runCli(['model', 'index', 'show', 'unknown.safetensors', '--json'], { workspace: ws }).json().sources).toEqual([])
  })
})

describe('model index robustness', () => {
  it('keeps a consistent index file when a scan is killed midway, and the next sync completes it', async () => {
    const { ws, models } = setup()
    const n = 120
    for (let i = 0; i < n; i++) {
      // Sparse files over 30 MiB: three 5 MiB samples each, distinct first bytes.
      const f = join(models, 'checkpoints', `m${String(i).padStart(3, '0')}.safetensors`)
      mkdirSync(join(f, '..'), { recursive: true })
      const fd = openSync(f, 'w')
      writeSync(fd, Buffer.from(`model-${i}`))
      ftruncateSync(fd, 31 * 1024 * 1024)
      closeSync(fd)
    }
    const child = spawn(process.execPath, [CLI, '--workspace', ws, 'model', 'index', 'sync', '--json'], { stdio: ['ignore', 'ignore', 'pipe'] })
    const exited = new Promise<NodeJS.Signals | null>(resolve => child.on('close', (_code, signal) => resolve(signal)))
    let buf = ''
    child.stderr.on('data', (d) => {
      buf += d
      if (/"phase":"progress"[^\n]*"current":([1-9]\d*)/.test(buf)) child.kill('SIGKILL')
    })
    expect(await exited).toBe('SIGKILL')
    const db = new Database(join(ws, '.metadata', 'models.db'))
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok')
    const partial = (db.prepare('SELECT COUNT(*) AS n FROM locations').get() as { n: number }).n
    db.close()
    expect(partial).toBeLessThanOrEqual(n)
    const r = runCli(['model', 'index', 'sync', '--json'], { workspace: ws })
    expect(r.code).toBe(0)
    expect(r.json().models).toBe(n)
    expect(r.json().hashed).toBe(n - partial)
  })
})
