/** @module `log`: the environment's commits, newest first, named by short commit id (never renumbered). */
import { openGit, type LogEntry } from '../git'
import type { EnvPaths } from '../workspace'

export interface EnvLogEntry extends LogEntry {
  /** Of the workflows asked about, those this commit holds (what Restore can take from it). */
  workflows?: string[]
}

export async function environmentLog (env: EnvPaths, opts: { limit?: number, workflows?: string[] } = {}): Promise<EnvLogEntry[]> {
  const git = openGit(env.cec)
  const entries = await git.log({ limit: opts.limit })
  const names = [...new Set(opts.workflows ?? [])]
  if (!names.length || !entries.length) return entries
  // every commit x workflow pair in one git process, whatever the shape of the history
  const held = await git.holds(entries.flatMap(e => names.map(n => [e.commit, `workflows/${n}.json`] as [string, string])))
  return entries.map((e, i) => ({ ...e, workflows: names.filter((_, j) => held[i * names.length + j]) }))
}
