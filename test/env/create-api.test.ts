import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { createEnvironment } from '../../sidecar/env'
import { ComfydockError } from '../../sidecar/errors'
import { readManifest, writeManifest, type Pyproject } from '../../sidecar/manifest'
import type { ProgressEvent } from '../../sidecar/protocol'
import { findInterpreter } from '../../sidecar/python'
import { Workspace } from '../../sidecar/workspace'
import { makeComfyuiRepo, type ComfyuiRepo } from '../support/comfyui-repo'
import { makeTempDir } from '../support/temp-dir'

let repo: ComfyuiRepo
let ws: Workspace
let pythonVersion: string

beforeAll(async () => {
  const dir = makeTempDir('api')
  repo = await makeComfyuiRepo(dir)
  ws = (await Workspace.init(join(dir, 'ws'))).workspace
  await ws.setConfig('comfyui_source', `file://${repo.url}`)
  Object.assign(process.env, repo.indexEnv)
  pythonVersion = (await findInterpreter()).version
})

function importedManifest (): Pyproject {
  return {
    project: { name: 'comfydock-env-shared', version: '0.1.0', 'requires-python': `>=${pythonVersion}`, dependencies: ['comfy-dep-a==1.0'] },
    'dependency-groups': { 'my-pack-1234abcd': ['comfy-dep-b'] },
    tool: {
      comfydock: {
        schema_version: 1,
        comfyui_version: 'v0.3.6',
        comfyui_version_type: 'release',
        comfyui_commit_sha: repo.tags['v0.3.6'],
        python_version: pythonVersion,
        nodes: { 'my-pack': { name: 'my-pack', version: 'dev', source: 'development' } },
      },
    },
  }
}

describe('createEnvironment from an existing manifest (import)', () => {
  it('keeps the manifest, takes ComfyUI from its commit, installs its groups and commits what beforeCommit adds', async () => {
    const events: ProgressEvent[] = []
    const res = await createEnvironment(ws, 'imported', {
      manifest: importedManifest(),
      commitMessage: 'Imported from bundle',
      beforeCommit: async env => { writeFileSync(join(env.cecWorkflows, 'portrait.json'), '{"nodes":[]}') },
    }, { onProgress: e => events.push(e) })
    expect(res.comfyui).toEqual({ version: 'v0.3.6', type: 'release', commit: repo.tags['v0.3.6'] })
    const env = ws.env('imported')
    const doc = await readManifest(env.pyproject)
    expect(doc.project.name).toBe('comfydock-env-shared')
    expect(doc['dependency-groups']).toEqual({ 'my-pack-1234abcd': ['comfy-dep-b'] })
    expect(doc.tool.comfydock.nodes?.['my-pack']).toMatchObject({ source: 'development' })
    const files = execFileSync('git', ['-C', env.cec, 'show', '--name-only', '--format=%s', 'HEAD'], { encoding: 'utf8' })
    expect(files).toMatch(/^Imported from bundle\n/)
    expect(files).toContain('workflows/portrait.json')
    const pkgs = execFileSync(join(env.venv, 'bin', 'python'), ['-c', 'import comfy_dep_a, comfy_dep_b; print(comfy_dep_a.__version__, comfy_dep_b.__version__)'], { encoding: 'utf8' })
    expect(pkgs.trim()).toBe('1.0 2.0')
    expect(events.filter(e => e.phase === 'start').map(e => e.label)).toEqual(expect.arrayContaining([
      'create environment imported', 'resolving the ComfyUI version', 'getting ComfyUI v0.3.6', 'installing Python packages', 'setting up the imported content',
    ]))
  })

  it('installs Python packages after beforeCommit, following what it left in .cec (a bundled lock, pack groups)', async () => {
    const manifest = importedManifest()
    delete manifest['dependency-groups']
    const events: ProgressEvent[] = []
    await createEnvironment(ws, 'late', {
      manifest,
      beforeCommit: async env => {
        const doc = await readManifest(env.pyproject)
        doc['dependency-groups'] = { 'late-pack-5678abcd': ['comfy-dep-b'] }
        await writeManifest(env.pyproject, doc)
      },
    }, { onProgress: e => events.push(e) })
    const python = join(ws.env('late').venv, 'bin', 'python')
    expect(execFileSync(python, ['-c', 'import comfy_dep_b; print(comfy_dep_b.__version__)'], { encoding: 'utf8' }).trim()).toBe('2.0')
    const starts = events.filter(e => e.phase === 'start').map(e => e.label)
    expect(starts.indexOf('installing Python packages')).toBeGreaterThan(starts.indexOf('setting up the imported content'))
  })

  it('falls back to the local Python with a warning when the manifest names one that is not installed', async () => {
    const manifest = importedManifest()
    manifest.tool.comfydock.python_version = '2.6'
    const events: ProgressEvent[] = []
    const res = await createEnvironment(ws, 'otherpy', { manifest }, { onProgress: e => events.push(e) })
    expect(res.python.version).toBe(pythonVersion)
    expect(events.find(e => e.phase === 'note' && e.level === 'warn')?.message).toContain('Python 2.6')
    expect((await readManifest(ws.env('otherpy').pyproject)).tool.comfydock.python_version).toBe('2.6')
  })

  it('creates from a branch, recording the branch name and the commit it pointed at', async () => {
    const res = await createEnvironment(ws, 'branch', { comfyui: 'master' })
    expect(res.comfyui).toEqual({ version: 'master', type: 'branch', commit: repo.commits[2] })
    const t = (await readManifest(ws.env('branch').pyproject)).tool.comfydock
    expect([t.comfyui_version, t.comfyui_version_type, t.comfyui_commit_sha]).toEqual(['master', 'branch', repo.commits[2]])
  })

  it('removes the environment when beforeCommit fails, keeping its error code and naming the step', async () => {
    const err = await createEnvironment(ws, 'half', {
      manifest: importedManifest(),
      beforeCommit: async () => { throw new ComfydockError('NODE_INSTALL_FAILED', 'my-pack could not be installed', { hint: 'try again' }) },
    }).catch(e => e)
    expect(err).toBeInstanceOf(ComfydockError)
    expect(err.code).toBe('NODE_INSTALL_FAILED')
    expect(err.message).toContain('setting up the imported content')
    expect(err.hint).toBe('try again')
    expect(existsSync(ws.env('half').root)).toBe(false)
  })

  it('stops with CANCELLED and removes everything when the signal aborts mid-way', async () => {
    const ctl = new AbortController()
    const err = await createEnvironment(ws, 'aborted', { comfyui: 'v0.3.7' }, {
      signal: ctl.signal,
      onProgress: e => { if (e.phase === 'start' && e.label === 'writing .cec/pyproject.toml') ctl.abort() },
    }).catch(e => e)
    expect(err.code).toBe('CANCELLED')
    expect(existsSync(ws.env('aborted').root)).toBe(false)
  })

  it('keeps machine-local choices out of the manifest and refuses unknown torch backends', async () => {
    await expect(createEnvironment(ws, 'torchy', { torchBackend: 'cuda-latest' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    expect(existsSync(ws.env('torchy').root)).toBe(false)
    await expect(createEnvironment(ws, 'nopy', { python: '2.6' })).rejects.toMatchObject({ code: 'PYTHON_NOT_FOUND' })
    expect(existsSync(ws.env('nopy').root)).toBe(false)
    const res = await createEnvironment(ws, 'cpu', { comfyui: 'v0.3.7', python: pythonVersion, torchBackend: 'cpu' })
    const env = ws.env('cpu')
    expect(JSON.parse(readFileSync(env.localSettings, 'utf8'))).toMatchObject({ torch_backend: 'cpu', python_version: pythonVersion, python: res.python.path })
    const text = readFileSync(env.pyproject, 'utf8')
    expect(text).not.toMatch(/torch|= "cpu"/)
    expect(text).not.toContain(res.python.path)
  })
})
