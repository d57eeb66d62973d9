/**
 * Two machines, played by two workspaces: an environment made on a CUDA machine (uv when it is on PATH)
 * is exported and imported on a CPU machine without uv. Real packages come from PyPI; only the torch
 * family comes from a loopback index serving small stand-in wheels, one per backend, as
 * download.pytorch.org does. Also: a conflicting `node add` leaves a working environment untouched.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exportEnvironment, importBundle } from '../../sidecar/bundle'
import { commitEnvironment, createEnvironment } from '../../sidecar/env'
import { addNodes } from '../../sidecar/nodes'
import { PYTHON_SETTINGS, REQUIREMENTS_LOCK } from '../../sidecar/python'
import { Workspace, type EnvPaths } from '../../sidecar/workspace'
import { sharedInstallerCaches } from '../contract/caches'
import { makeComfyuiRepo, type ComfyuiRepo } from '../support/comfyui-repo'
import { startFileServer, type FileServer } from '../support/file-server'
import { startRegistryServer, type RegistryServer } from '../support/registry-server'
import { makeTempDir } from '../support/temp-dir'
import { serveTorchIndex } from '../support/torch-index'
import { pathWithoutUv, venvFreeze } from '../support/venv'

const TORCH = /^torch==/
const withoutTorch = (freeze: string[]): string[] => freeze.filter(l => !TORCH.test(l))

let dir: string
let repo: ComfyuiRepo
let registry: RegistryServer
let torchIndex: FileServer
let restoreCaches: () => void
const savedEnv = { PATH: process.env.PATH, UV_FIND_LINKS: process.env.UV_FIND_LINKS, PIP_FIND_LINKS: process.env.PIP_FIND_LINKS }

async function machine (name: string): Promise<Workspace> {
  const ws = (await Workspace.init(join(dir, name))).workspace
  await ws.setConfig('comfyui_source', `file://${repo.url}`)
  await ws.setConfig('registry_url', registry.url)
  await ws.setConfig('torch_index_url', `${torchIndex.url}/whl`, PYTHON_SETTINGS)
  return ws
}

beforeAll(async () => {
  dir = makeTempDir('machines')
  restoreCaches = sharedInstallerCaches()
  repo = await makeComfyuiRepo(dir)
  // ComfyUI's own (made-up) requirements come from local wheels; everything else from PyPI.
  process.env.UV_FIND_LINKS = repo.findLinks
  process.env.PIP_FIND_LINKS = repo.findLinks
  torchIndex = await startFileServer()
  for (const backend of ['cpu', 'cu128']) await serveTorchIndex(torchIndex, join(dir, 'torch-wheels'), backend, [{ name: 'torch', version: `2.9.0+${backend}` }])
  registry = await startRegistryServer([
    { id: 'pack-py', versions: [{ version: '1.0.0', files: { '__init__.py': '', 'requirements.txt': 'requests==2.31.0\nsix\ntorch>=2\n' } }] },
    { id: 'pack-old-urllib3', versions: [{ version: '1.0.0', files: { '__init__.py': '', 'requirements.txt': 'urllib3==1.20\n' } }] },
  ])
})

afterAll(async () => {
  await registry?.stop()
  await torchIndex?.close()
  restoreCaches?.()
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
})

describe('an environment on two machines', { timeout: 600_000 }, () => {
  let src: { ws: Workspace, env: EnvPaths }

  it('a bundle exported on a CUDA machine installs the same versions on a CPU machine without uv', async () => {
    const ws = await machine('cuda-machine')
    const created = await createEnvironment(ws, 'art', { comfyui: 'v0.3.7', torchBackend: 'cu128' })
    const env = ws.env('art')
    src = { ws, env }
    const added = await addNodes(ws, env, ['pack-py'])
    expect(added.ok, JSON.stringify(added.results[0].error)).toBe(true)
    await commitEnvironment(ws, env, { message: 'add pack-py' })
    const srcFreeze = venvFreeze(env.venv)
    expect(srcFreeze).toContain('torch==2.9.0+cu128')
    expect(srcFreeze).toContain('requests==2.31.0')

    // the shared lock pins everything but the machine-local torch, and no machine's torch index
    const lock = readFileSync(join(env.cec, REQUIREMENTS_LOCK), 'utf8')
    expect(lock).toMatch(/^requests==2\.31\.0 /m)
    expect(lock).not.toMatch(/^torch/m)
    expect(lock).not.toContain(torchIndex.url)
    if (created.backend === 'uv') {
      const uvLock = readFileSync(env.uvLock, 'utf8')
      expect(uvLock).not.toMatch(/\[\[package\]\]\nname = "torch"/)
      expect(uvLock).not.toContain(torchIndex.url)
    }
    const bundle = await exportEnvironment(ws, env, { output: join(dir, 'art.tar.gz') })

    const cpu = await machine('cpu-machine')
    process.env.PATH = pathWithoutUv()
    try {
      const imported = await importBundle(cpu, bundle.path, { torchBackend: 'cpu', models: 'skip' })
      expect(imported.python).toMatchObject({ backend: 'pip', lock: 'kept' })
      const dst = cpu.env(imported.name)
      const dstFreeze = venvFreeze(dst.venv)
      expect(withoutTorch(dstFreeze).filter(l => !/^(pip|setuptools|wheel)==/.test(l)))
        .toEqual(withoutTorch(srcFreeze).filter(l => !/^(pip|setuptools|wheel)==/.test(l)))
      expect(dstFreeze).toContain('torch==2.9.0+cpu')
    } finally {
      process.env.PATH = savedEnv.PATH
    }
  })

  it('a conflicting node add leaves the working environment exactly as it was', async () => {
    const { ws, env } = src
    const read = (f: string): string | null => existsSync(f) ? readFileSync(f, 'utf8') : null
    const before = { pyproject: read(env.pyproject), lock: read(join(env.cec, REQUIREMENTS_LOCK)), uvLock: read(env.uvLock), freeze: venvFreeze(env.venv) }
    const out = await addNodes(ws, env, ['pack-old-urllib3'])
    expect(out.ok).toBe(false)
    const err = out.results[0].error!
    expect(err.code).toBe('DEPENDENCY_CONFLICT')
    // both packs, the requirement on each side, and the choices
    expect(err.message).toMatch(/pack-old-urllib3 \(urllib3==1\.20\) conflicts with pack-py \(requests==2\.31\.0/)
    expect(err.hint).toMatch(/skip pack-old-urllib3/)
    expect(err.hint).toMatch(/node remove pack-py/)
    expect(err.hint).toMatch(/--override/)
    expect({ pyproject: read(env.pyproject), lock: read(join(env.cec, REQUIREMENTS_LOCK)), uvLock: read(env.uvLock), freeze: venvFreeze(env.venv) }).toEqual(before)
    expect(existsSync(join(env.customNodes, 'pack-old-urllib3'))).toBe(false)
  })
})
