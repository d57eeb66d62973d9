/**
 * The behaviour every Python installer must have, run against each backend (`pip.test.ts`, `uv.test.ts`),
 * with real small packages from PyPI (pinned, so the answers never change). Like Hono's
 * `runTest({ newRouter })`: one suite, every implementation.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeManifest, type Pyproject } from '../../sidecar/manifest'
import { REQUIREMENTS_LOCK, type PythonBackend, type EnvLocalSettings } from '../../sidecar/python'
import { Workspace, type EnvPaths } from '../../sidecar/workspace'
import { startFileServer, type FileServer } from '../support/file-server'
import { installIntoSystem, makeSystemPython, type SystemPython } from '../support/system-python'
import { makeTempDir } from '../support/temp-dir'
import { serveTorchIndex } from '../support/torch-index'
import { buildWheel } from '../support/wheels'
import { venvFreeze, venvVersions } from '../support/venv'
import { sharedInstallerCaches } from './caches'

export interface BackendFactory {
  kind: 'uv' | 'pip'
  /** `torchIndexBase`: the workspace's torch_index_url (indexes per backend below it). */
  make: (ws: Workspace, env: EnvPaths, settings: EnvLocalSettings, torchIndexBase?: string) => PythonBackend
}

export function manifest (deps: string[], groups?: Record<string, string[]>): Pyproject {
  return {
    project: { name: 'comfydock-env-contract', version: '0.1.0', 'requires-python': '>=3.10', dependencies: deps },
    ...(groups ? { 'dependency-groups': groups } : {}),
    tool: { comfydock: {} },
  }
}

const bytesOr = (file: string): string | null => { try { return readFileSync(file, 'utf8') } catch { return null } }

export function runPythonBackendContract ({ kind, make }: BackendFactory): void {
  // Real installs from PyPI: minutes on a busy machine, so the hang guard is generous (nothing here is timed).
  describe(`${kind} backend contract`, { timeout: 240_000 }, () => {
    let ws: Workspace
    let restoreEnv: () => void

    beforeAll(async () => {
      restoreEnv = sharedInstallerCaches()
      ws = (await Workspace.init(join(makeTempDir(`contract-${kind}`), 'ws'))).workspace
    })
    afterAll(() => restoreEnv())

    async function newEnv (name: string, doc: Pyproject, settings: EnvLocalSettings = {}): Promise<{ env: EnvPaths, backend: PythonBackend }> {
      const env = ws.env(name)
      mkdirSync(env.cec, { recursive: true })
      await writeManifest(env.pyproject, doc)
      return { env, backend: make(ws, env, { installer: kind, ...settings }) }
    }

    it('installs the dependencies and every group, writes a lock with hashes, then has nothing pending', async () => {
      const doc = manifest(['six==1.16.0'], { 'pack-a-11111111': ['idna==3.7'], 'pack-b-22222222': ['iniconfig==2.0.0'] })
      const { env, backend } = await newEnv('sync', doc)
      const out = await backend.sync(doc)
      expect(out.lock).toBe('new')
      expect(venvVersions(env.venv)).toMatchObject({ six: '1.16.0', idna: '3.7', iniconfig: '2.0.0' })
      const lock = readFileSync(join(env.cec, REQUIREMENTS_LOCK), 'utf8')
      expect(lock).toMatch(/^idna==3\.7 \\\n\s+--hash=sha256:[0-9a-f]{64}/m)
      expect(lock).toMatch(/^six==1\.16\.0/m)
      expect(bytesOr(env.uvLock) !== null).toBe(kind === 'uv')
      expect(await backend.pending(doc)).toEqual([])
      expect(await backend.installed()).toMatchObject({ six: '1.16.0', idna: '3.7' })
    })

    it('installs exactly what a lock pins on another machine, and keeps the lock as it was', async () => {
      const doc = manifest(['requests==2.31.0'])
      const a = await newEnv('lock-a', doc)
      await a.backend.sync(doc)
      const b = await newEnv('lock-b', doc)
      for (const f of [REQUIREMENTS_LOCK, 'uv.lock']) {
        const text = bytesOr(join(a.env.cec, f))
        if (text !== null) (await import('node:fs')).writeFileSync(join(b.env.cec, f), text)
      }
      const lockBefore = bytesOr(join(b.env.cec, REQUIREMENTS_LOCK))
      expect((await b.backend.sync(doc, { locked: true })).lock).toBe('kept')
      expect(venvFreeze(b.env.venv)).toEqual(venvFreeze(a.env.venv))
      expect(bytesOr(join(b.env.cec, REQUIREMENTS_LOCK))).toBe(lockBefore)
    })

    it('resolves afresh, and says so, when asked for the lock but none matches the manifest', async () => {
      const doc = manifest(['six==1.16.0'])
      const { backend } = await newEnv('nolock', doc)
      const out = await backend.sync(doc, { locked: true })
      expect(out.note).toMatch(/no lock to install from/)
    })

    it('a conflict between two groups changes nothing and quotes both requirements', async () => {
      const good = manifest(['six==1.16.0'], { 'pack-a-11111111': ['requests==2.31.0'] })
      const { env, backend } = await newEnv('conflict', good)
      await backend.sync(good)
      const freeze = venvFreeze(env.venv)
      const lock = bytesOr(join(env.cec, REQUIREMENTS_LOCK))
      const uvLock = bytesOr(env.uvLock)
      const bad = manifest(['six==1.16.0'], { 'pack-a-11111111': ['requests==2.31.0'], 'pack-b-22222222': ['urllib3==1.20'] })
      const err = await backend.sync(bad).catch(e => e)
      expect(err.code).toBe('DEPENDENCY_CONFLICT')
      expect(err.message).toMatch(/urllib3/)
      expect(err.message).toMatch(/requests/)
      expect(venvFreeze(env.venv)).toEqual(freeze)
      expect(bytesOr(join(env.cec, REQUIREMENTS_LOCK))).toBe(lock)
      expect(bytesOr(env.uvLock)).toBe(uvLock)
      await expect(backend.check(bad)).rejects.toMatchObject({ code: 'DEPENDENCY_CONFLICT' })
      await expect(backend.check(good)).resolves.toBeUndefined()
    })

    it('writes the lock only once the caller has written its manifest, and leaves the lock as it was when that write fails', async () => {
      const doc = manifest(['six==1.16.0'])
      const next = manifest(['six==1.16.0'], { 'pack-a-11111111': ['iniconfig==2.0.0'] })
      const held = await newEnv('manifest-held', doc)
      await held.backend.sync(doc)
      const lockFile = join(held.env.cec, REQUIREMENTS_LOCK)
      const before = bytesOr(lockFile)
      // node add writes pyproject.toml while the installer runs: what the venv and the lock hold when the sync waits for it
      let seen: { iniconfig?: string, lock: string | null } | undefined
      const manifestWritten = {
        then (done: () => void) {
          seen = { iniconfig: venvVersions(held.env.venv).iniconfig, lock: bytesOr(lockFile) }
          done()
        },
      } as unknown as PromiseLike<void>
      await held.backend.sync(next, { manifestWritten })
      expect(seen).toEqual({ iniconfig: '2.0.0', lock: before })
      expect(bytesOr(lockFile)).toMatch(/^iniconfig==2\.0\.0/m)

      const failing = await newEnv('manifest-fails', doc)
      await failing.backend.sync(doc)
      const lock = bytesOr(join(failing.env.cec, REQUIREMENTS_LOCK))
      const uvLock = bytesOr(failing.env.uvLock)
      const diskFull = Promise.reject(new Error('no space left on device'))
      diskFull.catch(() => undefined)
      await expect(failing.backend.sync(next, { manifestWritten: diskFull })).rejects.toThrow('no space left on device')
      expect(bytesOr(join(failing.env.cec, REQUIREMENTS_LOCK))).toBe(lock)
      expect(bytesOr(failing.env.uvLock)).toBe(uvLock)
    })

    it('names every package no index has, at once', async () => {
      const doc = manifest(['six==1.16.0', 'comfydock-contract-missing-one', 'comfydock-contract-missing-two>=1'])
      const { env, backend } = await newEnv('missing', doc)
      const err = await backend.sync(doc).catch(e => e)
      expect(err.code).toBe('PYTHON_SYNC_FAILED')
      expect(err.message).toContain('comfydock-contract-missing-one')
      expect(err.message).toContain('comfydock-contract-missing-two')
      expect(bytesOr(join(env.cec, REQUIREMENTS_LOCK))).toBeNull()
    })

    it('goes down to an older version and removes what the manifest no longer needs', async () => {
      const { env, backend } = await newEnv('change', manifest(['idna==3.7', 'six==1.16.0']))
      await backend.sync(manifest(['idna==3.7', 'six==1.16.0']))
      await backend.sync(manifest(['idna==3.6']))
      const after = venvVersions(env.venv)
      expect(after.idna).toBe('3.6')
      expect(after.six).toBeUndefined()
    })

    /**
     * The machine's torch, here the system Python's (a stand-in install of torch 1.8.0+cpu, seen through
     * --system-site-packages), is never replaced: every resolve holds it, so requirements on another torch,
     * the pack's own or a dependency's (kornia 0.7.1 needs torch>=1.9.1), are conflicts and nothing is fetched.
     */
    describe("the machine's own torch", () => {
      let system: SystemPython
      let torchIndex: FileServer
      let localWheels: string
      const torchFetches = (): string[] => torchIndex.requests.filter(r => r.path.endsWith('.whl')).map(r => r.path)

      beforeAll(async () => {
        const dir = makeTempDir(`system-torch-${kind}`)
        system = makeSystemPython(join(dir, 'system-python'))
        torchIndex = await startFileServer()
        const wheels = await serveTorchIndex(torchIndex, join(dir, 'wheels'), 'cpu', [
          { name: 'torch', version: '1.8.0+cpu' },
          { name: 'torch', version: '2.9.0+cpu' },
          { name: 'torchaudio', version: '0.8.0+cpu', requires: ['torch==1.8.0'] },
          { name: 'torchaudio', version: '2.9.0+cpu', requires: ['torch==2.9.0'] },
        ])
        installIntoSystem(system, wheels['torch==1.8.0+cpu'])
        // a package whose newest version needs torch 2: only its older one fits this machine
        localWheels = join(dir, 'local-wheels')
        await buildWheel(localWheels, { name: 'torchy', version: '1.0', requires: ['torch>=1.0'] })
        await buildWheel(localWheels, { name: 'torchy', version: '2.0', requires: ['torch>=2.0'] })
      })
      afterAll(async () => { await torchIndex?.close() })

      const onSystemTorch = (name: string, doc: Pyproject) => {
        const settings: EnvLocalSettings = { installer: kind, python: system.python, system_site_packages: true, torch_backend: 'cpu', find_links: [localWheels] }
        return newEnv(name, doc, settings).then(({ env }) => ({ env, backend: make(ws, env, settings, `${torchIndex.url}/whl`) }))
      }

      it('picks the versions that work with it, and locks them, where the newest need another torch', async () => {
        const doc = manifest(['torch', 'torchy'])
        const { env, backend } = await onSystemTorch('system-torch-older', doc)
        await backend.sync(doc)
        expect(venvVersions(env.venv).torchy).toBe('1.0')
        expect(readFileSync(join(env.cec, REQUIREMENTS_LOCK), 'utf8')).toMatch(/^torchy==1\.0\b/m)
        expect(await backend.pending(doc)).toEqual([])
        expect(torchFetches()).toEqual([])
      })

      it('installs around it, and refuses a pack that asks for another torch, directly or through a dependency, changing nothing', async () => {
        const good = manifest(['torch', 'six==1.16.0'])
        const { env, backend } = await onSystemTorch('system-torch', good)
        await backend.sync(good)
        expect(venvVersions(env.venv).torch).toBeUndefined() // no torch of the venv's own: the system's serves
        expect(await backend.installed()).toMatchObject({ torch: '1.8.0+cpu', six: '1.16.0' })
        const before = { freeze: venvFreeze(env.venv), lock: bytesOr(join(env.cec, REQUIREMENTS_LOCK)), uvLock: bytesOr(env.uvLock) }

        for (const [group, req, named] of [['pack-new-torch-11111111', 'torch>=2', /torch>=2/], ['pack-kornia-22222222', 'kornia==0.7.1', /kornia/]] as const) {
          const bad = manifest(['torch', 'six==1.16.0'], { [group]: [req] })
          const err = await backend.sync(bad).catch(e => e)
          expect(err.code, err.message).toBe('DEPENDENCY_CONFLICT')
          expect(err.message).toMatch(named)
          expect(err.message).toContain('torch 1.8.0+cpu')
          expect(err.machine).toEqual([{ name: 'torch', version: '1.8.0+cpu', system: true }])
          expect({ freeze: venvFreeze(env.venv), lock: bytesOr(join(env.cec, REQUIREMENTS_LOCK)), uvLock: bytesOr(env.uvLock) }).toEqual(before)
          await expect(backend.check(bad)).rejects.toMatchObject({ code: 'DEPENDENCY_CONFLICT' })
        }
        expect(torchFetches()).toEqual([])
      })

      it('takes a missing torchaudio from the torch index in the build that fits the machine torch, leaving torch alone', async () => {
        const doc = manifest(['torch', 'torchaudio'])
        const { env, backend } = await onSystemTorch('system-torchaudio', doc)
        await backend.sync(doc)
        const own = venvVersions(env.venv)
        expect(own.torchaudio).toBe('0.8.0+cpu')
        expect(own.torch).toBeUndefined()
        // torchaudio wheels are read for their requirements (this index serves no separate metadata); no torch is fetched
        expect(torchFetches().filter(p => !p.startsWith('/whl/cpu/torchaudio/'))).toEqual([])
        expect(existsSync(join(env.cec, REQUIREMENTS_LOCK))).toBe(true)
        expect(readFileSync(join(env.cec, REQUIREMENTS_LOCK), 'utf8')).not.toMatch(/^torch/m)
      })
    })

    it('makes the venv with --system-site-packages when the local settings ask for it', async () => {
      const { env, backend } = await newEnv('site', manifest([]), { system_site_packages: true })
      await backend.ensureVenv()
      expect(readFileSync(join(env.venv, 'pyvenv.cfg'), 'utf8')).toMatch(/include-system-site-packages = true/)
      rmSync(env.venv, { recursive: true, force: true })
    })
  })
}
