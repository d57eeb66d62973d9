/**
 * @module The uv backend. uv runs on a derived copy of `.cec/pyproject.toml` in a temp folder: the
 * manifest plus overrides that leave the torch family out of the resolution (its wheels are per
 * machine: CPU, CUDA, ROCm), so `uv.lock` never pins one machine's CUDA wheel URLs. `uv lock` resolves
 * the whole environment (every pack's group together) before anything is installed; `uv sync --frozen`
 * then installs exactly the lock into the environment's `.venv` (UV_PROJECT_ENVIRONMENT), the torch
 * family comes from the machine's torch index, and the lock goes back to `.cec` with its pip-readable
 * export `requirements.lock.txt`. The venv has no pip: uv does not need one.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ComfydockError } from '../errors'
import { run } from '../exec'
import { pathExists, withTempDir, writeFileAtomic } from '../fs'
import { serializeManifest, type Pyproject } from '../manifest'
import { startTask } from '../progress'
import type { OnProgress } from '../protocol'
import { venvPython, type EnvPaths, type Workspace } from '../workspace'
import { conflictLines, missingPackagesError, type PythonBackend, type SyncOptions, type SyncOutcome } from './backend'
import { collectMissing, withoutPackages } from './requirements'
import { torchIndexUrl, type EnvLocalSettings } from './local-settings'
import { extraneousPackages, missingFromLock, missingTorch, readLockState, requirementsLockPath } from './lock-state'
import { isTorchFamily, manifestOverrides, torchRequirements, TORCH_FAMILY, withLockHeader } from './lockfile'
import { installedVersions } from './site-packages'

/** A marker no interpreter satisfies: an override with it removes a package from the resolution. */
const NEVER = "python_version < '0'"

export class UvBackend implements PythonBackend {
  readonly kind = 'uv' as const

  constructor (
    private readonly ws: Workspace,
    private readonly env: EnvPaths,
    private readonly settings: EnvLocalSettings,
    private readonly uv = 'uv',
    private readonly torchIndexBase?: string,
  ) {}

  private get cacheDir (): string { return process.env.UV_CACHE_DIR || this.ws.cache.uv }

  private uvEnv (): NodeJS.ProcessEnv {
    const s = this.settings
    return {
      ...process.env,
      UV_PROJECT_ENVIRONMENT: this.env.venv,
      UV_CACHE_DIR: this.cacheDir,
      UV_NO_PROGRESS: '1',
      NO_COLOR: '1',
      VIRTUAL_ENV: '',
      ...(s.index_url ? { UV_DEFAULT_INDEX: s.index_url } : {}),
      ...(s.extra_index_urls?.length ? { UV_INDEX: s.extra_index_urls.join(' ') } : {}),
      ...(s.find_links?.length ? { UV_FIND_LINKS: s.find_links.join(',') } : {}),
      ...(s.python ? { UV_PYTHON: s.python } : {}),
    }
  }

  /**
   * The project uv resolves: the manifest, its own overrides plus the torch exclusions, and (to turn a
   * pip lock into a uv one) constraints. Torch settings the original tool wrote into `[tool.uv]`
   * (a CUDA index, sources, `+cu128` constraints) are machine-specific and left out.
   */
  private derivedProject (doc: Pyproject, constraints: string[] = []): string {
    const uvTable = { ...(doc.tool.uv ?? {}) } as Record<string, unknown>
    delete uvTable.index
    delete uvTable.sources
    const ownConstraints = Array.isArray(uvTable['constraint-dependencies']) ? (uvTable['constraint-dependencies'] as string[]).filter(c => !isTorchFamily(c)) : []
    const overrides = manifestOverrides(doc).filter(o => !isTorchFamily(o))
    uvTable['override-dependencies'] = [...overrides, ...TORCH_FAMILY.map(n => `${n} ; ${NEVER}`)]
    const allConstraints = [...ownConstraints, ...constraints]
    if (allConstraints.length) uvTable['constraint-dependencies'] = allConstraints
    else delete uvTable['constraint-dependencies']
    return serializeManifest({ ...doc, tool: { ...doc.tool, uv: uvTable } })
  }

  /** Runs `fn` in a temp project made from `doc`, with `.cec/uv.lock` copied in when given. */
  private async inProject<T> (doc: Pyproject, fn: (dir: string) => Promise<T>, opts: { uvLock?: string, constraints?: string[] } = {}): Promise<T> {
    return withTempDir('comfydock-uv', async dir => {
      await writeFile(join(dir, 'pyproject.toml'), this.derivedProject(doc, opts.constraints))
      if (opts.uvLock !== undefined) await writeFile(join(dir, 'uv.lock'), opts.uvLock)
      return fn(dir)
    })
  }

  async ensureVenv (opts: { onProgress?: OnProgress, signal?: AbortSignal } = {}): Promise<void> {
    if (await pathExists(venvPython(this.env.venv))) return
    const task = startTask(opts.onProgress, 'create Python venv')
    const python = this.settings.python ?? this.settings.python_version
    const args = ['venv', this.env.venv, ...(python ? ['--python', python] : []), ...(this.settings.system_site_packages ? ['--system-site-packages'] : [])]
    try {
      await mkdir(this.cacheDir, { recursive: true })
      await run(this.uv, args, { env: this.uvEnv(), signal: opts.signal })
    } catch (err) {
      task.end('failed')
      if (err instanceof ComfydockError && err.code === 'CANCELLED') throw err
      throw new ComfydockError('PYTHON_SYNC_FAILED', `uv could not create the venv at ${this.env.venv}: ${(err as Error).message}`, { cause: err })
    }
    task.end('ok')
  }

  /**
   * `uv lock` in `dir` (made from `doc`). A resolution failure is a DEPENDENCY_CONFLICT, or, for
   * packages no index has, an error naming every one of them (uv stops at the first).
   */
  private async lock (dir: string, doc: Pyproject, signal?: AbortSignal): Promise<void> {
    const res = await run(this.uv, ['lock'], { cwd: dir, env: this.uvEnv(), signal, allowFailure: true })
    if (res.code === 0) return
    const first = missingIn(res.stderr)
    if (first.length === 0) throw resolutionError(res.stderr)
    const all = await collectMissing(first, async without => {
      const again = await this.inProject(withoutPackages(doc, without), d => run(this.uv, ['lock'], { cwd: d, env: this.uvEnv(), signal, allowFailure: true }))
      return again.code === 0 ? [] : missingIn(again.stderr)
    })
    throw await missingPackagesError(all, this.settings, conflictLines(res.stderr).join('\n'), 'UV_INDEX_URL, UV_FIND_LINKS, uv.toml')
  }

  async sync (doc: Pyproject, opts: SyncOptions = {}): Promise<SyncOutcome> {
    await this.ensureVenv(opts)
    const state = await readLockState(this.env, doc)
    const keep = Boolean(opts.locked && state.matches)
    const task = startTask(opts.onProgress, keep ? 'install the locked Python packages (uv)' : 'resolve and install Python packages (uv)')
    try {
      // A matching pip lock without uv.lock (made where uv was absent): lock the same versions.
      const seed = keep && state.uvLock === undefined ? state.packages.map(p => `${p.name}==${p.version}`) : []
      const outcome: SyncOutcome = keep ? { lock: state.uvLock === undefined ? 'converted' : 'kept' } : { lock: state.text === undefined && state.uvLock === undefined ? 'new' : 'resolved' }
      if (opts.locked && !state.matches) outcome.note = state.text === undefined ? 'no lock to install from: resolved the requirements afresh' : 'the lock did not match the manifest: resolved the requirements afresh'
      const files = await this.inProject(doc, async dir => {
        // One uv run: `uv sync` without --frozen locks first and installs nothing unless that succeeds.
        const relock = !keep || seed.length > 0
        task.advance(0, relock ? 'uv lock + sync' : 'uv sync --frozen')
        const res = await run(this.uv, ['sync', ...(relock ? [] : ['--frozen']), '--inexact', '--all-groups', '--no-install-project'], {
          cwd: dir, env: this.uvEnv(), signal: opts.signal, allowFailure: true, onLine: line => { if (/^\s*[+-]\s/.test(line)) task.advance(0, line.trim()) },
        })
        if (res.code !== 0) {
          if (relock && /No solution found|was not found in the|unsatisfiable/.test(res.stderr)) await this.lock(dir, doc, opts.signal)
          throw syncError(res.stderr)
        }
        const exported = await run(this.uv, ['export', '--frozen', '--all-groups', '--no-emit-project', '--format', 'requirements-txt', '--no-header'], { cwd: dir, env: this.uvEnv(), signal: opts.signal })
        return { uvLock: await readFile(join(dir, 'uv.lock'), 'utf8'), requirements: withLockHeader(doc, exported.stdout, 'uv lock') }
      }, { uvLock: state.uvLock, constraints: seed })
      await this.installTorch(doc, opts)
      await writeFileAtomic(this.env.uvLock, files.uvLock)
      await writeFileAtomic(requirementsLockPath(this.env), files.requirements)
      const extra = await extraneousPackages(this.env.venv, (await readLockState(this.env, doc)).packages)
      if (extra.length) await run(this.uv, ['pip', 'uninstall', '--python', venvPython(this.env.venv), ...extra], { env: this.uvEnv(), signal: opts.signal })
      task.end('ok')
      return outcome
    } catch (err) {
      task.end('failed')
      throw err
    }
  }

  /** The torch family from this machine's torch index; never changes a torch already installed. */
  private async installTorch (doc: Pyproject, opts: SyncOptions): Promise<void> {
    const reqs = torchRequirements(doc)
    if (reqs.length === 0) return
    const installed = await installedVersions(this.env.venv)
    if (missingTorch(reqs, installed).length === 0) return
    // `auto` (and mps) take the default index, as pip does: PyPI's torch is the CUDA build on Linux.
    const index = torchIndexUrl(this.settings.torch_backend, this.torchIndexBase)
    const res = await run(this.uv, ['pip', 'install', '--python', venvPython(this.env.venv), ...(index ? ['--index', index] : []), '--', ...reqs], {
      env: this.uvEnv(), signal: opts.signal, allowFailure: true,
    })
    if (res.code !== 0) throw syncError(res.stderr, 'the torch family')
  }

  async check (doc: Pyproject): Promise<void> {
    const state = await readLockState(this.env, doc)
    await this.inProject(doc, dir => this.lock(dir, doc), { uvLock: state.uvLock })
  }

  async installed (): Promise<Record<string, string>> {
    return installedVersions(this.env.venv)
  }

  async pending (doc: Pyproject): Promise<string[]> {
    const installed = await installedVersions(this.env.venv)
    const state = await readLockState(this.env, doc)
    if (state.matches) return [...await missingFromLock(this.env.venv, state.packages, installed), ...missingTorch(torchRequirements(doc), installed)]
    // No lock for this manifest yet: ask uv what a sync would install.
    const res = await this.inProject(doc, dir => run(this.uv, ['sync', '--all-groups', '--inexact', '--dry-run', '--no-install-project'], { cwd: dir, env: this.uvEnv(), allowFailure: true }), { uvLock: state.uvLock })
    if (res.code !== 0) {
      throw new ComfydockError('PYTHON_SYNC_FAILED', `cannot tell whether the venv matches the manifest:\n${res.stderr.trim().split('\n').slice(-4).join('\n')}`)
    }
    // uv prints planned changes as " + name==1.0" (to install) and " - name==0.9" (to remove first).
    return (res.stderr + '\n' + res.stdout).split('\n').map(l => /^\s*[+~]\s+(\S+)/.exec(l)?.[1]).filter((x): x is string => Boolean(x))
  }
}

/** Packages uv says no index has ("Because foo was not found in the package registry ..."). */
function missingIn (stderr: string): string[] {
  return [...new Set([...stderr.matchAll(/Because (?:there are no versions of |only )?([A-Za-z0-9._-]+)(?:\S*)? (?:was not found in the (?:package registry|provided package locations))/g)].map(m => m[1]))]
}

/** A failed `uv lock` over requirements that cannot hold together. */
export function resolutionError (stderr: string): ComfydockError {
  const lines = conflictLines(stderr)
  const detail = (lines.length ? lines : stderr.trim().split('\n').slice(-6)).join('\n')
  return new ComfydockError('DEPENDENCY_CONFLICT', `the requirements cannot be installed together:\n${detail}`, {
    hint: 'Change or remove the conflicting requirement, then try again.',
  })
}

function syncError (stderr: string, what = 'the locked packages'): ComfydockError {
  const lines = conflictLines(stderr)
  return new ComfydockError('PYTHON_SYNC_FAILED', `uv could not install ${what}:\n${(lines.length ? lines : stderr.trim().split('\n').slice(-8)).join('\n')}`, {
    hint: 'Check the requirement and your package index, then run `comfydock status`.',
  })
}
