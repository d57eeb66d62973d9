/**
 * @module Whether a git pack folder holds work that exists nowhere else: uncommitted changes, or a HEAD
 * the cached mirror of its repository does not know (local commits). Such a folder is never replaced
 * or deleted without the user saying so.
 */
import { join } from 'node:path'
import { ComfydockError } from '../errors'
import { run } from '../exec'
import { pathExists } from '../fs'
import type { GitStore } from './store'

export async function localWork (dir: string, git: GitStore, repository?: string): Promise<string | undefined> {
  if (!(await pathExists(join(dir, '.git')))) return undefined
  const status = await run('git', ['-C', dir, 'status', '--porcelain'], { allowFailure: true })
  if (status.code === 0 && status.stdout.trim()) return `uncommitted changes (${status.stdout.trim().split('\n').length} files)`
  if (!repository) return undefined
  const head = (await run('git', ['-C', dir, 'rev-parse', 'HEAD'], { allowFailure: true })).stdout.trim()
  if (!head) return undefined
  const mirror = git.mirrorOf(repository)
  if (!(await pathExists(mirror))) return undefined
  const known = await run('git', ['-C', mirror, 'cat-file', '-e', `${head}^{commit}`], { allowFailure: true })
  return known.code === 0 ? undefined : `local commit ${head.slice(0, 12)} that ${repository} does not have`
}

export async function assertNoLocalWork (dir: string, git: GitStore, repository: string | undefined, what: string, hint: string): Promise<void> {
  const work = await localWork(dir, git, repository)
  if (work) throw new ComfydockError('UNCOMMITTED_CHANGES', `${dir} has ${work}; not ${what} it`, { hint })
}
