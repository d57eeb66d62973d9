/**
 * @module `push`: this environment's commits to a remote. Only `.cec`'s history travels (machine-local
 * state is git-ignored there); a remote that has commits this one lacks refuses, and the error says to
 * pull first. Uncommitted work and models a teammate could not fetch are reported, not pushed.
 */
import { ComfydockError } from '../errors'
import { explainRemoteFailure, openGit } from '../git'
import { readManifest } from '../manifest'
import type { OnProgress } from '../protocol'
import { withTask } from '../progress'
import type { EnvPaths, Workspace } from '../workspace'
import { requireRemote, USER_REMOTE_POLICY } from './remotes'

export interface PushOptions {
  remote?: string
  onProgress?: OnProgress
  signal?: AbortSignal
}

export interface PushResult {
  environment: string
  remote: string
  url: string
  branch: string
  commit: string
  /** The remote already had this commit. */
  upToDate: boolean
  /** Uncommitted changes in .cec (not pushed). */
  uncommitted: string[]
  /** Models the environment needs that no source names: teammates cannot fetch them (`model push` fixes it). */
  modelsWithoutSource: string[]
}

export async function pushEnvironment (_ws: Workspace, env: EnvPaths, opts: PushOptions = {}): Promise<PushResult> {
  const git = openGit(env.cec)
  const remote = opts.remote ?? 'origin'
  const url = await requireRemote(env, git, remote)
  const commit = await git.head()
  if (!commit) throw new ComfydockError('NOTHING_TO_COMMIT', `environment "${env.name}" has no commits to push`, { hint: 'Commit first: `comfydock commit -m "..."`.' })
  const branch = await git.currentBranch() ?? 'main'
  const tracking = `refs/remotes/${remote}/${branch}`
  const before = await git.revParse(tracking)
  await withTask(opts.onProgress, `push to ${remote}`, {}, async () => {
    try {
      // the remote-tracking ref moves with it, so the next pull knows what the remote has
      await git.push(remote, [`HEAD:refs/heads/${branch}`], { policy: USER_REMOTE_POLICY, signal: opts.signal })
    } catch (err) {
      throw explainRemoteFailure(err, url, `pushing to ${remote}`)
    }
  })
  const uncommitted = (await git.status()).map(e => e.path)
  const doc = await readManifest(env.pyproject)
  const { collectModelNeeds } = await import('../env/repair')
  const modelsWithoutSource = [...new Set(collectModelNeeds(doc).filter(n => n.hash && n.sources.length === 0).map(n => n.filename))].sort()
  return { environment: env.name, remote, url, branch, commit, upToDate: before === commit, uncommitted, modelsWithoutSource }
}
