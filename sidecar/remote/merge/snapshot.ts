/**
 * @module One version of an environment's `.cec`, as the merge sees it: the parsed manifest and every
 * other tracked file by its path (workflow snapshots, uv.lock, .python-version, .gitignore).
 */
import type { Pyproject } from '../../manifest'

export const MANIFEST_FILE = 'pyproject.toml'

export interface CecSnapshot {
  manifest: Pyproject
  /** Tracked files other than pyproject.toml, by path relative to `.cec` (forward slashes). */
  files: Record<string, string>
}

/** The snapshot file of a tracked workflow: its recorded path, else `workflows/<name>.json`. */
export function workflowFile (name: string, entry: { path?: string } | undefined): string {
  return entry?.path ?? `workflows/${name}.json`
}
