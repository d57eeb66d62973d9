/**
 * @module The uv backend. uv runs on a derived copy of `.cec/pyproject.toml` in a temp folder: the
 * manifest plus overrides that leave the torch family out of the resolution (its wheels are per
 * machine: CPU, CUDA, ROCm), so `uv.lock` never pins one machine's CUDA wheel URLs. `uv lock` resolves
 * the whole environment (every pack's group together) before anything is installed; `uv sync --frozen`
 * then installs exactly the lock into the environment's `.venv` (UV_PROJECT_ENVIRONMENT), the torch
 * family comes from the machine's torch index, and the lock goes back to `.cec` with its pip-readable
 * export `requirements.lock.txt`. The venv has no pip: uv does not need one.
 *
 * uv does not see what the base interpreter has (--system-site-packages), and the lock leaves torch out,
 * so where the machine has torch a second, machine-only resolve runs first: `uv pip compile` with each
 * installed torch-family package stood in for by a metadata-only wheel at its version (machine-torch.ts).
 * A pack asking for another torch is then a conflict, and nothing is fetched; otherwise its pins, as
 * constraints for this machine's Python and platform, make the lock choose the same versions.
 */
import { watch, type FSWatcher } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ComfydockError } from '../errors'
import { run } from '../exec'
import { pathExists, withTempDir, writeFileAtomic } from '../fs'
import { serializeManifest, type Pyproject } from '../manifest'
import { startTask } from '../progress'
import type { OnProgress } from '../protocol'
import { venvPython, type EnvPaths, type Workspace } from '../workspace'
import { conflictLines, missingPackagesError, type PythonBackend, type SyncOptions, type SyncOutcome } from './backend'
import { assertMachineTorchHolds, DependencyConflictError, machineTorchConflict } from './conflict'
import { machineTorch, writeStandIn, type MachinePackage } from './machine-torch'
import { collectMissing, withoutPackages } from './requirements'
import { torchIndexUrl, type EnvLocalSettings } from './local-settings'
import { extraneousPackages, missingFromLock, missingTorch, readLockState, requirementsLockPath, venvPythonVersion } from './lock-state'
import { isTorchFamily, manifestOverrides, parseRequirementsLock, torchRequirements, TORCH_FAMILY, withLockHeader, type LockedPackage } from './lockfile'
import { markerEnv } from './markers'
import { manifestRequirements, requirementName } from './requirements'
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
    const ownConstraints = manifestConstraints(doc)
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
    const [state, machine, pythonVersion] = await Promise.all([readLockState(this.env, doc), machineTorch(this.env.venv), venvPythonVersion(this.env.venv)])
    const keep = Boolean(opts.locked && state.matches)
    assertMachineTorchHolds(doc, machine, pythonVersion)
    const task = startTask(opts.onProgress, keep ? 'install the locked Python packages (uv)' : 'resolve and install Python packages (uv)')
    try {
      // pins that fit the machine's torch, for this machine only: the lock then makes the same choices
      const machinePins = !keep && machine.length ? await this.resolveForMachine(doc, machine, state.packages, opts.signal) : []
      // A matching pip lock without uv.lock (made where uv was absent): lock the same versions.
      const seed = keep && state.uvLock === undefined ? state.packages.map(p => `${p.name}==${p.version}`) : []
      const outcome: SyncOutcome = keep ? { lock: state.uvLock === undefined ? 'converted' : 'kept' } : { lock: state.text === undefined && state.uvLock === undefined ? 'new' : 'resolved' }
      if (opts.locked && !state.matches) outcome.note = state.text === undefined ? 'no lock to install from: resolved the requirements afresh' : 'the lock did not match the manifest: resolved the requirements afresh'
      const files = await this.inProject(doc, async dir => {
        // One uv run: `uv sync` without --frozen locks first and installs nothing unless that succeeds.
        const relock = !keep || seed.length > 0
        task.advance(0, relock ? 'uv lock + sync' : 'uv sync --frozen')
        const early = relock ? this.exportOnLock(dir, opts.signal) : undefined
        let res
        try {
          res = await run(this.uv, ['sync', ...(relock ? [] : ['--frozen']), '--inexact', '--all-groups', '--no-install-project'], {
            cwd: dir, env: this.uvEnv(), signal: opts.signal, allowFailure: true, onLine: line => { if (/^\s*[+-]\s/.test(line)) task.advance(0, line.trim()) },
          })
        } catch (err) {
          await early?.cancel()
          throw err
        } finally {
          early?.stop()
        }
        if (res.code !== 0) {
          await early?.cancel()
          if (relock && /No solution found|was not found in the|unsatisfiable/.test(res.stderr)) await this.lock(dir, doc, opts.signal)
          throw syncError(res.stderr)
        }
        const uvLock = await readFile(join(dir, 'uv.lock'), 'utf8')
        const exported = await early?.exportOf(uvLock) ?? await this.export(dir, opts.signal)
        return { uvLock, requirements: withLockHeader(doc, exported, 'uv lock') }
      }, { uvLock: state.uvLock, constraints: [...seed, ...machinePins] })
      await this.installTorch(doc, opts, machine)
      await opts.manifestWritten
      // the lock just exported is what the venv must hold: what else it has is found while the files are written
      const [extra] = await Promise.all([
        extraneousPackages(this.env.venv, parseRequirementsLock(files.requirements).packages),
        writeFileAtomic(this.env.uvLock, files.uvLock),
        writeFileAtomic(requirementsLockPath(this.env), files.requirements),
      ])
      if (extra.length) await run(this.uv, ['pip', 'uninstall', '--python', venvPython(this.env.venv), ...extra], { env: this.uvEnv(), signal: opts.signal })
      task.end('ok')
      return outcome
    } catch (err) {
      task.end('failed')
      throw err
    }
  }

  /** The pip-readable export of `dir`'s uv.lock (all groups, without the project itself). */
  private async export (dir: string, signal?: AbortSignal): Promise<string> {
    // it reads two local files: offline, and without the CA certificates (SSL_CERT_DIR) uv would load at start
    const { SSL_CERT_DIR: _dir, SSL_CERT_FILE: _file, ...env } = this.uvEnv()
    const res = await run(this.uv, ['export', '--frozen', '--offline', '--all-groups', '--no-emit-project', '--format', 'requirements-txt', '--no-header'], { cwd: dir, env, signal })
    return res.stdout
  }

  /**
   * Exports the lock while `uv sync` in `dir` installs: uv renames the new uv.lock into place once it has
   * resolved, before it installs anything. The export runs on a copy of that lock, and `exportOf(final)`
   * returns it only when the copy is the lock the sync left (else undefined: export again).
   */
  private exportOnLock (dir: string, signal?: AbortSignal): { stop (): void, cancel (): Promise<void>, exportOf (lock: string): Promise<string | undefined> } {
    const abort = new AbortController()
    const both = signal ? AbortSignal.any([signal, abort.signal]) : abort.signal
    let started: Promise<{ lock: string, out: string } | undefined> | undefined
    let watcher: FSWatcher | undefined
    const start = (): void => {
      started ??= (async () => {
        const [project, lock] = await Promise.all([readFile(join(dir, 'pyproject.toml'), 'utf8'), readFile(join(dir, 'uv.lock'), 'utf8')])
        return withTempDir('comfydock-uv-export', async copy => {
          await Promise.all([writeFile(join(copy, 'pyproject.toml'), project), writeFile(join(copy, 'uv.lock'), lock)])
          return { lock, out: await this.export(copy, both) }
        })
      })().catch(() => undefined) // a lock read mid-write or an export that failed: exported again after the sync
    }
    try {
      watcher = watch(dir, (_event, name) => { if (String(name) === 'uv.lock') start() })
      watcher.on('error', () => watcher?.close())
    } catch {
      // no watcher here: the export runs after the sync
    }
    return {
      stop: () => watcher?.close(),
      cancel: async () => { abort.abort(); await started },
      exportOf: async lock => {
        const got = await started
        return got && got.lock === lock ? got.out : undefined
      },
    }
  }

  /**
   * The torch family members the manifest asks for and the venv lacks, from this machine's torch index;
   * never changes one already installed. When the machine has part of the family (a system torch without
   * torchaudio), the missing ones are resolved against it (stand-ins, as in resolveForMachine) and
   * installed without dependencies, so uv never pulls another torch in beside them.
   */
  private async installTorch (doc: Pyproject, opts: SyncOptions, machine: MachinePackage[]): Promise<void> {
    const reqs = torchRequirements(doc)
    if (reqs.length === 0) return
    const installed = await installedVersions(this.env.venv)
    const missing = missingTorch(reqs, installed)
    if (missing.length === 0) return
    // `auto` (and mps) take the default index, as pip does: PyPI's torch is the CUDA build on Linux.
    const index = torchIndexUrl(this.settings.torch_backend, this.torchIndexBase)
    const indexArgs = index ? ['--index', index] : []
    const python = venvPython(this.env.venv)
    let install = missing
    let noDeps: string[] = []
    if (machine.length) {
      install = await withTempDir('comfydock-uv', async dir => {
        const input = join(dir, 'requirements.in')
        await writeFile(input, [...missing, ...await this.standIns(dir, machine)].join('\n') + '\n')
        const res = await run(this.uv, ['pip', 'compile', '--python', python, '--quiet', '--no-header', '--no-annotate', ...indexArgs, input], { env: this.uvEnv(), signal: opts.signal, allowFailure: true })
        if (res.code !== 0) throw machineTorchConflict(conflictLines(res.stderr).length ? conflictLines(res.stderr) : res.stderr.trim().split('\n').slice(-4), machine)
        // pins of what is not there yet; the stand-ins (`name @ file://...`) are the machine's own
        return res.stdout.split('\n').map(l => l.trim()).filter(l => /^[A-Za-z0-9][A-Za-z0-9._-]*==\S+$/.test(l) && installed[requirementName(l)] !== l.split('==')[1])
      })
      noDeps = ['--no-deps']
    }
    if (install.length === 0) return
    const res = await run(this.uv, ['pip', 'install', '--python', python, ...noDeps, ...indexArgs, '--', ...install], {
      env: this.uvEnv(), signal: opts.signal, allowFailure: true,
    })
    if (res.code !== 0) throw syncError(res.stderr, 'the torch family')
  }

  /** `name @ file://<stand-in wheel>` for each machine package, the wheels written into `dir`. */
  private async standIns (dir: string, machine: MachinePackage[]): Promise<string[]> {
    const out: string[] = []
    for (const p of machine) out.push(`${p.name} @ ${pathToFileURL(await writeStandIn(join(dir, 'stand-ins'), p)).href}`)
    return out
  }

  /**
   * Resolves the whole environment for this machine with its torch family held at the installed versions
   * (nothing is installed, nothing of torch fetched), preferring the versions the lock has. A failure that
   * the same resolve without the machine's torch does not have is a conflict with the machine; any other
   * failure is left to the sync, which reports it as it does without torch. Returns the pins, as
   * constraints for this machine's Python and platform only (`kornia==0.7.1 ; python_full_version ==
   * '3.11.2' and ...`): the lock, which leaves torch out, would otherwise pick versions that need another
   * torch (a newer kornia) where older ones fit this one.
   */
  private async resolveForMachine (doc: Pyproject, machine: MachinePackage[], previous: LockedPackage[], signal?: AbortSignal): Promise<string[]> {
    const held = new Set(machine.map(p => p.name))
    const absent = TORCH_FAMILY.filter(n => !held.has(n))
    return withTempDir('comfydock-uv', async dir => {
      const standIns = await this.standIns(dir, machine)
      const standInOf = (name: string): string => standIns.find(s => requirementName(s) === name)!
      // a torch-family member the machine lacks comes from its torch index later: left out here, as in the lock
      const reqs = manifestRequirements(doc).filter(r => !(isTorchFamily(r) && !held.has(requirementName(r))))
      // the user's own override of a held member (a conflict settled) becomes the machine's package
      const overrides = manifestOverrides(doc).filter(o => !isTorchFamily(o) || held.has(requirementName(o))).map(o => isTorchFamily(o) ? standInOf(requirementName(o)) : o)
      const files = { input: join(dir, 'requirements.in'), overrides: join(dir, 'overrides.txt'), constraints: join(dir, 'constraints.txt'), output: join(dir, 'requirements.txt') }
      const compile = async (withMachine: boolean) => {
        await writeFile(files.input, [...(withMachine ? reqs : reqs.filter(r => !isTorchFamily(r))), ...(withMachine ? standIns : [])].join('\n') + '\n')
        await writeFile(files.overrides, [...(withMachine ? overrides : overrides.filter(o => !isTorchFamily(o))), ...(withMachine ? absent : TORCH_FAMILY).map(n => `${n} ; ${NEVER}`)].join('\n') + '\n')
        await writeFile(files.constraints, manifestConstraints(doc).join('\n') + '\n')
        // an existing output file is what uv pip compile prefers: the lock's versions
        await writeFile(files.output, previous.map(p => `${p.name}==${p.version}`).join('\n') + '\n')
        return run(this.uv, ['pip', 'compile', '--python', venvPython(this.env.venv), '--quiet', '--no-header', '--no-annotate', '--overrides', files.overrides, '--constraints', files.constraints, '--output-file', files.output, files.input], {
          env: this.uvEnv(), signal, allowFailure: true,
        })
      }
      const res = await compile(true)
      if (res.code === 0) {
        const here = await this.platformMarker()
        return (await readFile(files.output, 'utf8')).split('\n').map(l => l.trim())
          .filter(l => /^[A-Za-z0-9][A-Za-z0-9._-]*==[^\s;]+$/.test(l) && !isTorchFamily(l))
          .map(pin => `${pin} ; ${here}`)
      }
      if ((await compile(false)).code !== 0) return []
      const lines = conflictLines(res.stderr)
      throw machineTorchConflict(lines.length ? lines : res.stderr.trim().split('\n').slice(-6), machine)
    })
  }

  /** The marker that holds for this venv's Python on this platform only. */
  private async platformMarker (): Promise<string> {
    const env = markerEnv(await venvPythonVersion(this.env.venv) ?? '0')
    return `python_full_version == '${env.python_full_version}' and sys_platform == '${env.sys_platform}' and platform_machine == '${env.platform_machine}'`
  }

  async check (doc: Pyproject): Promise<void> {
    const machine = await machineTorch(this.env.venv)
    assertMachineTorchHolds(doc, machine, await venvPythonVersion(this.env.venv))
    const state = await readLockState(this.env, doc)
    if (machine.length) await this.resolveForMachine(doc, machine, state.packages)
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
  return new DependencyConflictError(`the requirements cannot be installed together:\n${detail}`)
}

/** The manifest's own `[tool.uv] constraint-dependencies`, without torch (machine-local). */
function manifestConstraints (doc: Pyproject): string[] {
  const list = (doc.tool.uv as { 'constraint-dependencies'?: unknown } | undefined)?.['constraint-dependencies']
  return Array.isArray(list) ? list.filter((c): c is string => typeof c === 'string' && !isTorchFamily(c)) : []
}

function syncError (stderr: string, what = 'the locked packages'): ComfydockError {
  const lines = conflictLines(stderr)
  return new ComfydockError('PYTHON_SYNC_FAILED', `uv could not install ${what}:\n${(lines.length ? lines : stderr.trim().split('\n').slice(-8)).join('\n')}`, {
    hint: 'Check the requirement and your package index, then run `comfydock status`.',
  })
}
