/**
 * @module Whether a git pack folder holds work that exists nowhere else: uncommitted changes, or a HEAD
 * the cached mirror of its repository does not know (local commits). Such a folder is never replaced
 * or deleted without the user saying so.
 */
import { join } from 'node:path'
import { ComfydockError } from '../errors'
import { pathExists } from '../fs'
import { openGit } from '../git'
import type { GitStore } from './store'

export async function localWork (dir: string, git: GitStore, repository?: string): Promise<string | undefined> {
  if (!(await pathExists(join(dir, '.git')))) return undefined
  const repo = openGit(dir)
  const changed = await repo.status().catch(() => [])
  if (changed.length) return `uncommitted changes (${changed.length} file${changed.length === 1 ? '' : 's'})`
  if (!repository) return undefined
  const head = await repo.head()
  if (!head) return undefined
  const mirror = git.mirrorOf(repository)
  if (!(await pathExists(mirror))) return undefined
  return await openGit(mirror).hasCommit(head) ? undefined : `local commit ${head.slice(0, 12)} that ${repository} does not have`
}

export async function assertNoLocalWork (dir: string, git: GitStore, repository: string | undefined, what: string, hint: string): Promise<void> {
  const work = await localWork(dir, git, repository)
  if (work) throw new ComfydockError('UNCOMMITTED_CHANGES', `${dir} has ${work}; not ${what} it`, { hint })
}
