/**
 * An environment on a machine whose torch is the system Python's (a stand-in install of torch 1.8.0+cpu
 * in a Python of the test's own), made with --system-site-packages, with uv and with pip. A pack asking
 * for another torch, itself or through a dependency from PyPI (kornia 0.7.1 needs torch>=1.9.1), is a
 * conflict naming the pack, its requirement and the machine's torch; nothing is installed or fetched.
 * Allowing it with the suggested override keeps the machine's torch.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEnvironment } from '../../sidecar/env'
import { addNodes } from '../../sidecar/nodes'
import { PYTHON_SETTINGS, REQUIREMENTS_LOCK } from '../../sidecar/python'
import { Workspace, type EnvPaths } from '../../sidecar/workspace'
import { sharedInstallerCaches } from '../contract/caches'
import { makeComfyuiRepo, type ComfyuiRepo } from '../support/comfyui-repo'
import { startFileServer, type FileServer } from '../support/file-server'
import { startRegistryServer, type RegistryServer } from '../support/registry-server'
import { installIntoSystem, makeSystemPython, type SystemPython } from '../support/system-python'
import { makeTempDir } from '../support/temp-dir'
import { serveTorchIndex } from '../support/torch-index'
import { pathWithoutUv, uvDirOnPath, venvFreeze } from '../support/venv'

let dir: string
let repo: ComfyuiRepo
let registry: RegistryServer
let torchIndex: FileServer
let system: SystemPython
let restoreCaches: () => void
const saved = { PATH: process.env.PATH, UV_FIND_LINKS: process.env.UV_FIND_LINKS, PIP_FIND_LINKS: process.env.PIP_FIND_LINKS }

beforeAll(async () => {
  dir = makeTempDir('machine-torch')
  restoreCaches = sharedInstallerCaches()
  repo = await makeComfyuiRepo(dir)
  process.env.UV_FIND_LINKS = repo.findLinks
  process.env.PIP_FIND_LINKS = repo.findLinks
  system = makeSystemPython(join(dir, 'system-python'))
  torchIndex = await startFileServer()
  const wheels = await serveTorchIndex(torchIndex, join(dir, 'torch-wheels'), 'cpu', [{ name: 'torch', version: '1.8.0+cpu' }, { name: 'torch', version: '2.9.0+cpu' }])
  installIntoSystem(system, wheels['torch==1.8.0+cpu'])
  registry = await startRegistryServer([
    { id: 'pack-torch-user', versions: [{ version: '1.0.0', files: { '__init__.py': '', 'requirements.txt': 'torch>=1.8\nsix==1.16.0\n' } }] },
    { id: 'pack-new-torch', versions: [{ version: '1.0.0', files: { '__init__.py': '', 'requirements.txt': 'torch>=2.1\n' } }] },
    { id: 'pack-kornia', versions: [{ version: '1.0.0', files: { '__init__.py': '', 'requirements.txt': 'kornia==0.7.1\n' } }] },
  ])
})

afterAll(async () => {
  await registry?.stop()
  await torchIndex?.close()
  restoreCaches?.()
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
})

const read = (f: string): string | null => existsSync(f) ? readFileSync(f, 'utf8') : null

describe.each(uvDirOnPath() ? ['uv', 'pip'] : ['pip'])("the system's torch, with %s", { timeout: 600_000 }, installer => {
  let ws: Workspace
  let env: EnvPaths

  beforeAll(async () => {
    ws = (await Workspace.init(join(dir, `ws-${installer}`))).workspace
    await ws.setConfig('comfyui_source', `file://${repo.url}`)
    await ws.setConfig('registry_url', registry.url)
    await ws.setConfig('torch_index_url', `${torchIndex.url}/whl`, PYTHON_SETTINGS)
    if (installer === 'pip') process.env.PATH = pathWithoutUv()
    try {
      const created = await createEnvironment(ws, 'art', { comfyui: 'v0.3.7', pythonPath: system.python, systemSitePackages: true, torchBackend: 'cpu' })
      expect(created.backend).toBe(installer)
    } finally {
      process.env.PATH = saved.PATH
    }
    env = ws.env('art')
    const added = await addNodes(ws, env, ['pack-torch-user'])
    expect(added.ok, JSON.stringify(added.results[0].error)).toBe(true)
  })

  const state = () => ({ pyproject: read(env.pyproject), lock: read(join(env.cec, REQUIREMENTS_LOCK)), uvLock: read(env.uvLock), freeze: venvFreeze(env.venv) })

  it('a pack that allows the machine torch installs around it: the venv gets no torch of its own', () => {
    expect(venvFreeze(env.venv)).toContain('six==1.16.0')
    expect(venvFreeze(env.venv).filter(l => l.startsWith('torch=='))).toEqual([])
  })

  it('a pack asking for another torch, itself or through a dependency, is a conflict naming it; nothing changes or is fetched', async () => {
    const before = state()
    for (const [pack, requirement] of [['pack-new-torch', 'torch>=2.1'], ['pack-kornia', 'kornia==0.7.1']]) {
      const out = await addNodes(ws, env, [pack])
      const r = out.results[0]
      expect(r.ok).toBe(false)
      expect(r.error?.code).toBe('DEPENDENCY_CONFLICT')
      expect(r.error?.message).toContain(`${pack} (${requirement}) conflicts with this machine (torch==1.8.0+cpu from the system Python)`)
      expect(r.conflict?.with).toEqual([{ kind: 'machine', name: 'this machine', requirements: ['torch==1.8.0+cpu from the system Python'] }])
      expect(r.conflict?.choices.map(c => c.kind)).toEqual(['skip', 'override'])
      expect(r.error?.hint).toMatch(/skip/)
      expect(state()).toEqual(before)
      expect(existsSync(join(env.customNodes, pack))).toBe(false)
    }
    expect(torchIndex.requests.filter(r => r.path.endsWith('.whl'))).toEqual([])
  })

  it('allowed with the suggested override, the pack is added and the machine keeps its torch', async () => {
    const out = await addNodes(ws, env, ['pack-new-torch'], { onConflict: { kind: 'override', requirements: [] } })
    expect(out.ok, JSON.stringify(out.results[0].error)).toBe(true)
    expect(out.results[0].conflict?.chosen).toBe('override')
    expect(read(env.pyproject)).toMatch(/override-dependencies = \[ "torch" \]/)
    expect(venvFreeze(env.venv).filter(l => l.startsWith('torch=='))).toEqual([])
    expect(torchIndex.requests.filter(r => r.path.endsWith('.whl'))).toEqual([])
  })
})
