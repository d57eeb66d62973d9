/**
 * @module `commit`: records the current `.cec/` (pyproject, workflows) as one git commit.
 * Kept as a short list of steps so concerns can add theirs before the git commit
 * (the workflows concern snapshots tracked workflows here).
 */
import { ComfydockError } from '../errors'
import { openGit } from '../git'
import type { OnProgress } from '../protocol'
import type { EnvPaths, Workspace } from '../workspace'
import { prepareWorkflowCommit, type PreparedCommit } from '../workflows'

export interface CommitOptions {
  message: string
  /** Commit even when a step reports unresolved issues (used by later steps, e.g. workflows). */
  allowIssues?: boolean
  /** Workflow contents by name as the browser holds them; others are read from the ComfyUI user folder. */
  workflowContents?: Record<string, unknown>
  onProgress?: OnProgress
}

export interface CommitResult {
  commit: string
  short: string
  message: string
  /** Paths in .cec that this commit recorded (porcelain status before committing). */
  changes: Array<{ status: string, path: string }>
  /** What the workflows step snapshotted and wrote into pyproject. */
  workflows: PreparedCommit
}

export async function commitEnvironment (ws: Workspace, env: EnvPaths, opts: CommitOptions): Promise<CommitResult> {
  const message = opts.message?.trim()
  if (!message) {
    throw new ComfydockError('INVALID_ARGUMENT', 'a commit needs a message', { hint: 'Run `comfydock commit -m "what changed"`.' })
  }
  // Tracked workflows: snapshot + analysis into pyproject; unresolved issues stop here, before git.
  const workflows = await prepareWorkflowCommit(ws, env, { allowIssues: opts.allowIssues, contents: opts.workflowContents, onProgress: opts.onProgress })
  const git = openGit(env.cec)
  const changes = (await git.status()).map(line => ({ status: line.slice(0, 2).trim(), path: line.slice(3) }))
  if (changes.length === 0) {
    throw new ComfydockError('NOTHING_TO_COMMIT', `nothing changed in environment "${env.name}" since the last commit`, {
      hint: 'Change something first (e.g. `comfydock node add ...`), or see `comfydock log`.',
    })
  }
  const commit = await git.commit(message)
  if (!commit) throw new ComfydockError('NOTHING_TO_COMMIT', `nothing changed in environment "${env.name}" since the last commit`)
  return { commit, short: commit.slice(0, 7), message, changes, workflows }
}
