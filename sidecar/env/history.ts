/** @module `log`: the environment's commits, newest first, named by short commit id (never renumbered). */
import { openGit, type LogEntry } from '../git'
import type { EnvPaths } from '../workspace'

export async function environmentLog (env: EnvPaths, opts: { limit?: number } = {}): Promise<LogEntry[]> {
  return openGit(env.cec).log({ limit: opts.limit })
}
