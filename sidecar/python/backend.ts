/** @module The one interface every Python installer (uv, venv+pip) implements. */
import { ComfydockError } from '../errors'
import { run } from '../exec'
import type { Pyproject } from '../manifest'
import type { OnProgress } from '../protocol'
import type { EnvLocalSettings } from './local-settings'
import { TORCH_FAMILY } from './lockfile'
import { requirementName } from './requirements'

export interface SyncOptions {
  onProgress?: OnProgress
  signal?: AbortSignal
  /**
   * Install the lock in `.cec` as it is when it matches the manifest (import, rollback, repair);
   * otherwise, and without this, the whole environment is resolved again (the old lock's versions
   * preferred) and the new lock written.
   */
  locked?: boolean
  /**
   * Settles once the manifest `doc` was read from is on disk (node add writes it while the installer
   * resolves): the lock files in `.cec` are written only after it, so a lock never describes a
   * pyproject.toml that is not there. A rejection fails the sync, whose caller puts the venv back.
   */
  manifestWritten?: PromiseLike<unknown>
}

export interface SyncOutcome {
  /** kept: installed the lock as it was; converted: a pip lock became uv.lock (same versions); resolved/new: resolved afresh. */
  lock: 'kept' | 'converted' | 'resolved' | 'new'
  /** Why a lock asked for could not be used (said to the user). */
  note?: string
}

export interface PythonBackend {
  readonly kind: 'uv' | 'pip'
  /** Creates the venv if missing (interpreter/system-site-packages from the env's local settings). */
  ensureVenv (opts?: { onProgress?: OnProgress, signal?: AbortSignal }): Promise<void>
  /**
   * Makes the venv exactly what the lock pins (plus the machine-local torch family), writing the lock
   * files in `.cec` first when the environment is resolved again. Resolution happens before anything is
   * installed: a conflict (DEPENDENCY_CONFLICT) or an unknown package (PYTHON_SYNC_FAILED naming every missing package) changes nothing.
   */
  sync (doc: Pyproject, opts?: SyncOptions): Promise<SyncOutcome>
  /** Resolves `doc` without changing anything; throws DEPENDENCY_CONFLICT quoting the conflicting requirements. */
  check (doc: Pyproject): Promise<void>
  /** name (normalised, lowercase) -> version */
  installed (): Promise<Record<string, string>>
  /** What `sync(doc)` would still install or change ("name==version"); empty when the venv matches. */
  pending (doc: Pyproject): Promise<string[]>
}

/** Lines of installer output worth showing when resolution fails. */
export function conflictLines (output: string): string[] {
  const lines = output.split('\n').map(l => l.trimEnd())
  const keep: string[] = []
  let inCause = false
  for (const line of lines) {
    if (/^(ERROR|error):/.test(line) || /No solution found|Because .* (depends|requires)|unsatisfiable/i.test(line)) {
      keep.push(line.trim())
      inCause = false
    } else if (/conflict is caused by/i.test(line)) {
      inCause = true
    } else if (inCause && /^\s+\S/.test(line)) {
      keep.push(line.trim())
    } else if (inCause) {
      inCause = false
    }
  }
  return [...new Set(keep)].slice(0, 12)
}

/** Which of `names` the base interpreter itself has installed (name -> version). */
async function systemVersions (python: string, names: string[]): Promise<Record<string, string>> {
  const code = 'import importlib.metadata as m, json, sys\nout = {}\nfor n in sys.argv[1:]:\n    try:\n        out[n] = m.version(n)\n    except Exception:\n        pass\nprint(json.dumps(out))'
  const res = await run(python, ['-I', '-c', code, ...names], { allowFailure: true }).catch(() => undefined)
  try {
    return res && res.code === 0 ? JSON.parse(res.stdout) as Record<string, string> : {}
  } catch {
    return {}
  }
}

/**
 * The error for packages no index has, naming all of them and the likely reason: the base Python has
 * them but the venv was made without --system-site-packages, a torch-family package is not on the
 * machine's torch index, or the name or the index settings are wrong.
 */
export async function missingPackagesError (names: string[], settings: EnvLocalSettings, detail: string, indexSettings: string): Promise<ComfydockError> {
  const reasons: string[] = []
  const system = settings.python && !settings.system_site_packages ? await systemVersions(settings.python, names.map(requirementName)) : {}
  const inSystem = Object.entries(system)
  if (inSystem.length) {
    reasons.push(`the system Python (${settings.python}) has ${inSystem.map(([n, v]) => `${n} ${v}`).join(', ')}, but this venv was made without --system-site-packages and cannot see it`)
  }
  const torch = names.filter(n => TORCH_FAMILY.includes(requirementName(n)) && !system[requirementName(n)])
  if (torch.length) reasons.push(`${torch.join(', ')} come${torch.length === 1 ? 's' : ''} from the machine's torch index (torch backend "${settings.torch_backend ?? 'auto'}")`)
  const others = names.filter(n => !system[requirementName(n)] && !torch.includes(n))
  if (others.length) reasons.push(`${others.join(', ')}: check the spelling and the package index settings (${indexSettings})`)
  const hint = inSystem.length
    ? 'Recreate the environment with `--system-site-packages` (`comfydock import <bundle> --system-site-packages --python-path <python>`, or `comfydock create ... --system-site-packages`).'
    : torch.length
      ? 'Pick the torch backend this machine has with `--torch-backend cpu|cuXXX|rocmX` (or set `comfydock config torch_index_url` for a mirror).'
      : `Fix or remove the requirement, or point the installer at an index that has it (${indexSettings}).`
  return new ComfydockError('PYTHON_SYNC_FAILED', `no package index has ${names.join(', ')}:\n${reasons.map(r => `  - ${r}`).join('\n')}\n${detail}`, { hint })
}
