/** @module The one interface every Python installer (uv, venv+pip) implements. */
import type { Pyproject } from '../manifest'
import type { OnProgress } from '../protocol'

export interface PythonBackend {
  readonly kind: 'uv' | 'pip'
  /** Creates the venv if missing (interpreter/system-site-packages from the env's local settings). */
  ensureVenv (opts?: { onProgress?: OnProgress, signal?: AbortSignal }): Promise<void>
  /** Installs project.dependencies + every dependency-group of `doc` into the venv. */
  sync (doc: Pyproject, opts?: { onProgress?: OnProgress, signal?: AbortSignal }): Promise<void>
  /** Dry run; throws ComfydockError('DEPENDENCY_CONFLICT') whose message quotes the conflicting requirements. */
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
