/**
 * @module The venv + pip backend, for machines without uv. pip resolves the whole environment (every
 * pack's group on one command line, the old lock's versions as constraints when they still fit) before
 * it installs anything, so a conflict changes nothing. The lock it leaves, `requirements.lock.txt`, pins
 * what is then installed with the hashes of the files pip used; it is resolved for this platform.
 * A locked install is `pip install --no-deps --require-hashes -r requirements.lock.txt`, then the
 * machine-local torch family, then packages the lock no longer has are removed. The torch family the
 * venv already sees (its own, or the system's through --system-site-packages) is a constraint of every
 * resolve (`torch==<installed>`): pip keeps it, and a pack asking for another torch is a conflict.
 * pip honours PIP_INDEX_URL / PIP_FIND_LINKS / PIP_NO_INDEX from the environment, so offline mirrors work.
 */
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { readFile } from 'node:fs/promises'
import { ComfydockError } from '../errors'
import { run, type RunResult } from '../exec'
import { pathExists, withTempDir, writeFileAtomic } from '../fs'
import type { Pyproject } from '../manifest'
import { startTask, type Task } from '../progress'
import type { OnProgress } from '../protocol'
import { venvPython, type EnvPaths, type Workspace } from '../workspace'
import { conflictLines, missingPackagesError, type PythonBackend, type SyncOptions, type SyncOutcome } from './backend'
import { assertMachineTorchHolds, DependencyConflictError, machineTorchConflict } from './conflict'
import { machineConstraints, machineTorch, type MachinePackage } from './machine-torch'
import { torchIndexUrl, type EnvLocalSettings } from './local-settings'
import { extraneousPackages, missingFromLock, missingTorch, readLockState, requirementsLockPath, venvPythonVersion } from './lock-state'
import { formatRequirementsLock, isTorchFamily, requirementsWithOverrides, torchRequirements, TORCH_FAMILY, type LockedPackage } from './lockfile'
import { collectMissing, manifestRequirements, normalizePackageName, requirementName } from './requirements'
import { installedVersions, listDistributions, requiredNames, venvSitePackages } from './site-packages'

const SYNC_HINT = 'Check the requirement and your package index (PIP_INDEX_URL / PIP_FIND_LINKS), then run `comfydock status`.'

interface ReportItem { metadata: { name: string, version: string }, download_info?: { archive_info?: { hashes?: Record<string, string> } } }

export class PipBackend implements PythonBackend {
  readonly kind = 'pip' as const

  constructor (
    private readonly ws: Workspace,
    private readonly env: EnvPaths,
    private readonly settings: EnvLocalSettings,
    private readonly torchIndexBase?: string,
  ) {}

  private get python (): string { return venvPython(this.env.venv) }

  private get cacheDir (): string { return process.env.PIP_CACHE_DIR || this.ws.cache.pip }

  private pipEnv (): NodeJS.ProcessEnv {
    return { ...process.env, PIP_CACHE_DIR: this.cacheDir, PIP_DISABLE_PIP_VERSION_CHECK: '1', PYTHONNOUSERSITE: '1' }
  }

  /** This machine's torch index (undefined for `auto`: the default index has torch). */
  private get torchIndex (): string | undefined { return torchIndexUrl(this.settings.torch_backend, this.torchIndexBase) }

  /** Index options from the machine-local settings. */
  private indexArgs (): string[] {
    const s = this.settings
    const args: string[] = []
    if (s.index_url) args.push('--index-url', s.index_url)
    for (const url of s.extra_index_urls ?? []) args.push('--extra-index-url', url)
    for (const dir of s.find_links ?? []) args.push('--find-links', dir)
    return args
  }

  private pip (args: string[], opts: { signal?: AbortSignal, task?: Task } = {}): Promise<RunResult> {
    return run(this.python, ['-m', 'pip', ...args], {
      env: this.pipEnv(),
      signal: opts.signal,
      allowFailure: true,
      onLine: opts.task
        ? line => {
          const m = /^(Collecting|Requirement already satisfied:|Successfully installed)\s*(.*)$/.exec(line.trim())
          if (m) opts.task!.advance(0, `${m[1].replace(/:$/, '')} ${m[2].split(' ')[0]}`)
        }
        : undefined,
    })
  }

  async ensureVenv (opts: { onProgress?: OnProgress, signal?: AbortSignal } = {}): Promise<void> {
    if (await pathExists(this.python)) return
    const task = startTask(opts.onProgress, 'create Python venv')
    const base = this.settings.python ?? 'python3'
    const args = ['-m', 'venv', ...(this.settings.system_site_packages ? ['--system-site-packages'] : []), this.env.venv]
    try {
      await run(base, args, { signal: opts.signal, hint: `Make sure ${base} has the venv module (Debian: \`apt-get install python3-venv\`).` })
    } catch (err) {
      task.end('failed')
      await rm(this.env.venv, { recursive: true, force: true })
      if (err instanceof ComfydockError && err.code === 'CANCELLED') throw err
      if (err instanceof ComfydockError && err.code === 'COMMAND_NOT_FOUND') {
        throw new ComfydockError('PYTHON_NOT_FOUND', `Python interpreter "${base}" not found`, { hint: 'Pass `--python-path` to `comfydock create`.', cause: err })
      }
      throw new ComfydockError('PYTHON_SYNC_FAILED', `could not create the venv at ${this.env.venv}: ${(err as Error).message}`, { hint: (err as ComfydockError).hint, cause: err })
    }
    task.end('ok')
  }

  async sync (doc: Pyproject, opts: SyncOptions = {}): Promise<SyncOutcome> {
    await this.ensureVenv(opts)
    const [state, machine, pythonVersion] = await Promise.all([readLockState(this.env, doc), machineTorch(this.env.venv), venvPythonVersion(this.env.venv)])
    const keep = Boolean(opts.locked && state.matches)
    assertMachineTorchHolds(doc, machine, pythonVersion)
    const task = startTask(opts.onProgress, keep ? 'install the locked Python packages (pip)' : 'resolve and install Python packages (pip)')
    try {
      let outcome: SyncOutcome
      let locked: LockedPackage[]
      if (keep) {
        await this.installLocked(state.packages, task, opts.signal)
        await this.installTorch(doc, opts)
        await opts.manifestWritten
        locked = state.packages
        outcome = { lock: 'kept' }
      } else {
        // With a torch index, the torch family comes from it alone (pip would take a newer CUDA build from
        // PyPI over it); the rest then resolves against the torch now installed.
        if (this.torchIndex) await this.installTorch(doc, opts)
        const report = await this.resolveAndInstall(doc, state.packages, this.torchIndex ? await machineTorch(this.env.venv) : machine, task, opts.signal)
        locked = await this.lockedPackages(doc, report, state.packages, opts.signal)
        await opts.manifestWritten
        await writeFileAtomic(requirementsLockPath(this.env), formatRequirementsLock(doc, locked, 'pip (for this platform)'))
        outcome = { lock: state.text === undefined ? 'new' : 'resolved' }
        if (opts.locked) outcome.note = state.text === undefined ? 'no lock to install from: resolved the requirements afresh' : 'the lock did not match the manifest: resolved the requirements afresh'
      }
      // uv.lock cannot be kept in step without uv: a stale one would mislead the next uv machine.
      const [extra] = await Promise.all([extraneousPackages(this.env.venv, locked), rm(this.env.uvLock, { force: true })])
      if (extra.length) await this.pip(['uninstall', '-y', ...extra], { signal: opts.signal })
      task.end('ok')
      return outcome
    } catch (err) {
      task.end('failed')
      throw err
    }
  }

  /**
   * Exactly the locked versions, without dependencies (the lock has them all). Hashes are required
   * wherever the lock has them; a package from a local folder (find-links) may have none, and pip's
   * hash mode is all or nothing, so those go in a second, pinned-only install.
   */
  private async installLocked (packages: LockedPackage[], task: Task, signal?: AbortSignal): Promise<void> {
    const line = (p: LockedPackage, hashes: boolean): string =>
      `${p.name}==${p.version}${p.marker ? ` ; ${p.marker}` : ''}${hashes ? p.hashes.map(h => ` --hash=${h}`).join('') : ''}`
    await withTempDir('comfydock-pip', async dir => {
      for (const [name, list, hashed] of [['hashed.txt', packages.filter(p => p.hashes.length), true], ['pinned.txt', packages.filter(p => !p.hashes.length), false]] as const) {
        if (list.length === 0) continue
        const file = join(dir, name)
        await writeFile(file, list.map(p => line(p, hashed)).join('\n') + '\n')
        const res = await this.pip(['install', '--no-deps', ...(hashed ? ['--require-hashes'] : []), ...this.indexArgs(), '-r', file], { signal, task })
        if (res.code !== 0) throw installError(res)
      }
    })
  }

  /**
   * One `pip install` of every requirement: pip resolves all of them before installing any. The old
   * lock's versions go in as constraints so unrelated packages keep their versions; when they no longer
   * fit (the change needs another version), pip resolves without them. The machine's torch family is
   * held at its installed versions in both tries.
   */
  private async resolveAndInstall (doc: Pyproject, previous: LockedPackage[], machine: MachinePackage[], task: Task, signal?: AbortSignal): Promise<ReportItem[]> {
    const reqs = this.resolvable(doc, machine)
    if (reqs.length === 0) return []
    return withTempDir('comfydock-pip', async dir => {
      const report = join(dir, 'report.json')
      const withOld = join(dir, 'constraints.txt')
      const machineOnly = join(dir, 'machine-constraints.txt')
      const pinned = previous.filter(p => !reqs.some(r => requirementName(r) === p.name && /[=<>~!]/.test(r)))
      await writeFile(withOld, [...pinned.map(p => `${p.name}==${p.version}`), ...machineConstraints(machine)].join('\n') + '\n')
      await writeFile(machineOnly, machineConstraints(machine).join('\n') + '\n')
      const attempt = (constraints: string) => this.pip(['install', '--report', report, ...this.indexArgs(), '-c', constraints, '--', ...reqs], { signal, task })
      let res = await attempt(withOld)
      if (res.code !== 0 && pinned.length > 0 && !installedSomething(res)) res = await attempt(machineOnly)
      if (res.code !== 0) throw await this.failure(res, reqs, machine, signal)
      return (JSON.parse(await readFile(report, 'utf8')) as { install?: ReportItem[] }).install ?? []
    })
  }

  /**
   * The requirements pip resolves: the manifest's with its overrides in place; the torch family stays in
   * where the machine has it (held by a constraint, nothing is fetched) and is left to the torch step
   * where it comes from the machine's torch index.
   */
  private resolvable (doc: Pyproject, machine: MachinePackage[]): string[] {
    return requirementsWithOverrides(doc).filter(r => !(isTorchFamily(r) && this.torchIndex && !machine.some(p => p.name === requirementName(r))))
  }

  /**
   * What the lock pins: every distribution in the venv reachable from the manifest's requirements (not
   * through the torch family), with hashes from pip's report, the old lock, or (for packages installed
   * before) pip's own answer for that exact version.
   */
  private async lockedPackages (doc: Pyproject, report: ReportItem[], previous: LockedPackage[], signal?: AbortSignal): Promise<LockedPackage[]> {
    const site = await venvSitePackages(this.env.venv)
    const dists = site ? await listDistributions(site) : new Map()
    const reached = new Set<string>()
    const extrasOf = (req: string): string[] => /^[^[;]*\[([^\]]*)\]/.exec(req)?.[1].split(',').map(e => e.trim()).filter(Boolean) ?? []
    const queue = requirementsWithOverrides(doc).filter(r => !isTorchFamily(r)).map(r => ({ name: requirementName(r), extras: extrasOf(r) }))
    const seen = new Set<string>()
    while (queue.length) {
      const { name, extras } = queue.pop()!
      const key = `${name}[${extras.join(',')}]`
      if (seen.has(key) || TORCH_FAMILY.includes(name)) continue
      seen.add(key)
      const dist = dists.get(name)
      if (!dist) continue
      reached.add(name)
      for (const dep of await requiredNames(dist, extras)) queue.push({ name: dep, extras: [] })
    }
    const hashes = new Map<string, string[]>()
    for (const item of report) {
      const h = item.download_info?.archive_info?.hashes
      if (h) hashes.set(`${normalizePackageName(item.metadata.name)}==${item.metadata.version}`, Object.entries(h).map(([alg, v]) => `${alg}:${v}`))
    }
    for (const p of previous) if (p.hashes.length) hashes.set(`${p.name}==${p.version}`, p.hashes)
    const pins = [...reached].map(n => `${n}==${dists.get(n).version}`)
    const unknown = pins.filter(p => !hashes.has(p))
    if (unknown.length) {
      await withTempDir('comfydock-pip', async dir => {
        const file = join(dir, 'report.json')
        const res = await this.pip(['install', '--dry-run', '--ignore-installed', '--no-deps', '--report', file, ...this.indexArgs(), '--', ...unknown], { signal })
        if (res.code !== 0) throw pipError(res)
        for (const item of (JSON.parse(await readFile(file, 'utf8')) as { install?: ReportItem[] }).install ?? []) {
          const h = item.download_info?.archive_info?.hashes
          if (h) hashes.set(`${normalizePackageName(item.metadata.name)}==${item.metadata.version}`, Object.entries(h).map(([alg, v]) => `${alg}:${v}`))
        }
      })
    }
    return pins.map(pin => {
      const [name, version] = pin.split('==')
      return { name, version, hashes: hashes.get(pin) ?? [] }
    })
  }

  /**
   * The torch family, only when missing: from this machine's torch index alone (as PyTorch's own
   * instructions have it; the index also serves torch's dependencies), or the default index for `auto`.
   */
  private async installTorch (doc: Pyproject, opts: SyncOptions): Promise<void> {
    const reqs = torchRequirements(doc)
    if (reqs.length === 0 || missingTorch(reqs, await installedVersions(this.env.venv)).length === 0) return
    const index = this.torchIndex
    // what the machine has of the family stays as it is: a missing torchaudio is chosen to fit its torch
    const machine = await machineTorch(this.env.venv)
    const res = await this.holdingMachineTorch(machine, held => this.pip(['install', ...(index ? ['--index-url', index] : this.indexArgs()), ...held, '--', ...reqs], { signal: opts.signal }))
    if (res.code !== 0) throw await this.failure(res, reqs, machine, opts.signal)
  }

  /** The error for a failed install; for missing packages, every one of them (pip stops at the first). */
  private async failure (res: RunResult, reqs: string[], machine: MachinePackage[], signal?: AbortSignal): Promise<ComfydockError> {
    const first = missingPackages(res.stderr + '\n' + res.stdout)
    if (first.length === 0 || installedSomething(res)) return pipError(res, machine)
    const names = first.map(requirementName)
    const all = await collectMissing(names, async without => {
      const rest = reqs.filter(r => !without.includes(requirementName(r)))
      if (rest.length === 0) return []
      const again = await this.holdingMachineTorch(machine, held => this.pip(['install', '--dry-run', ...this.indexArgs(), ...held, '--', ...rest], { signal }))
      return again.code === 0 ? [] : missingPackages(again.stderr + '\n' + again.stdout).map(requirementName)
    })
    const quoted = all.map(n => reqs.find(r => requirementName(r) === n) ?? n)
    return missingPackagesError(quoted, this.settings, conflictLines(res.stderr).join('\n'), 'PIP_INDEX_URL, PIP_FIND_LINKS, PIP_NO_INDEX')
  }

  async check (doc: Pyproject): Promise<void> {
    await this.ensureVenv()
    const machine = await machineTorch(this.env.venv)
    assertMachineTorchHolds(doc, machine, await venvPythonVersion(this.env.venv))
    // Nothing to resolve; pip would refuse an empty install ("You must give at least one requirement").
    const reqs = this.resolvable(doc, machine)
    if (reqs.length === 0) return
    const res = await this.holdingMachineTorch(machine, held => this.pip(['install', '--dry-run', ...this.indexArgs(), ...held, '--', ...reqs]))
    if (res.code !== 0) throw await this.failure(res, reqs, machine)
  }

  /** Runs `fn` with the arguments (`-c <file>`) that hold the machine's torch family at its installed versions. */
  private async holdingMachineTorch<T> (machine: MachinePackage[], fn: (held: string[]) => Promise<T>): Promise<T> {
    if (machine.length === 0) return fn([])
    return withTempDir('comfydock-pip', async dir => {
      const file = join(dir, 'machine-constraints.txt')
      await writeFile(file, machineConstraints(machine).join('\n') + '\n')
      return fn(['-c', file])
    })
  }

  async installed (): Promise<Record<string, string>> {
    return installedVersions(this.env.venv)
  }

  async pending (doc: Pyproject): Promise<string[]> {
    const state = await readLockState(this.env, doc)
    if (!(await pathExists(this.python))) return state.matches ? state.packages.map(p => `${p.name}==${p.version}`) : manifestRequirements(doc)
    const installed = await installedVersions(this.env.venv)
    if (state.matches) return [...await missingFromLock(this.env.venv, state.packages, installed), ...missingTorch(torchRequirements(doc), installed)]
    const reqs = requirementsWithOverrides(doc)
    if (reqs.length === 0) return []
    return withTempDir('comfydock-report', async dir => {
      const report = join(dir, 'report.json')
      const res = await this.holdingMachineTorch(await machineTorch(this.env.venv), held => this.pip(['install', '--dry-run', '--quiet', '--report', report, ...this.indexArgs(), ...held, '--', ...reqs]))
      if (res.code !== 0) {
        const lines = conflictLines(res.stderr)
        throw new ComfydockError('PYTHON_SYNC_FAILED', `cannot tell whether the venv matches the manifest:\n${(lines.length ? lines : res.stderr.trim().split('\n').slice(-4)).join('\n')}`, { hint: SYNC_HINT })
      }
      const data = JSON.parse(await readFile(report, 'utf8')) as { install?: ReportItem[] }
      return (data.install ?? []).map(i => `${normalizePackageName(i.metadata.name)}==${i.metadata.version}`)
    })
  }
}

/** pip got as far as installing: its output says so. */
function installedSomething (res: RunResult): boolean {
  return /^Installing collected packages/m.test(res.stdout)
}

/** Every package pip says it cannot find, from one run's output. */
function missingPackages (output: string): string[] {
  return [...new Set([...output.matchAll(/No matching distribution found for ([^\s]+)/g)].map(m => m[1]))]
}

/**
 * A failed resolution or install: missing packages, a conflict, or another install failure. A conflict
 * whose lines name the machine's torch held by a constraint is a conflict with the machine.
 */
export function pipError (res: RunResult, machine: MachinePackage[] = []): ComfydockError {
  const output = res.stderr + '\n' + res.stdout
  const lines = conflictLines(output)
  const detail = lines.length ? lines.join('\n') : (res.stderr.trim() || res.stdout.trim()).split('\n').slice(-8).join('\n')
  if (/ResolutionImpossible|conflicting dependencies|conflict is caused by/i.test(output)) {
    const held = machine.filter(p => new RegExp(`\\(constraint\\) ${p.name}==`, 'i').test(output))
    if (held.length) return machineTorchConflict(lines.length ? lines : [detail], held)
    return new DependencyConflictError(`the requirements cannot be installed together:\n${detail}`)
  }
  return new ComfydockError('PYTHON_SYNC_FAILED', `pip could not install the environment's requirements:\n${detail}`, { hint: SYNC_HINT })
}

function installError (res: RunResult): ComfydockError {
  const err = pipError(res)
  return err.code === 'PYTHON_SYNC_FAILED' ? err : new ComfydockError('PYTHON_SYNC_FAILED', `pip could not install the locked packages: ${err.message}`, { hint: SYNC_HINT, cause: err })
}
