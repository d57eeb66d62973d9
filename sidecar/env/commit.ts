/**
 * @module `commit`: records the current `.cec/` (pyproject, workflows) as one git commit.
 * Kept as a short list of steps so concerns can add theirs before the git commit
 * (the workflows concern snapshots tracked workflows here). The environment lock makes a CLI commit
 * and the panel's commit of the same environment run one after the other.
 */
import { ComfydockError } from '../errors'
import { isUntracked, openGit, statusCode } from '../git'
import { withManifestTransaction } from '../manifest'
import type { OnProgress } from '../protocol'
import type { EnvPaths, Workspace } from '../workspace'
import { prepareWorkflowCommit, trackWorkflows, type ModelLists, type ObjectInfo, type PreparedCommit } from '../workflows'
import { withEnvLock } from './lock'

export interface CommitOptions {
  message: string
  /** Commit even when a step reports unresolved issues (used by later steps, e.g. workflows). */
  allowIssues?: boolean
  /** Workflow contents by name as the browser holds them; others are read from the ComfyUI user folder. */
  workflowContents?: Record<string, unknown>
  /**
   * The panel's commit of open tabs: every workflow in workflowContents is tracked (no saved file needed),
   * and tracked workflows with no file anywhere keep their last snapshot. A refused commit tracks nothing.
   */
  fromBrowser?: boolean
  /** The browser's `/api/object_info` and model lists: model inputs and packs of what that ComfyUI runs. */
  objectInfo?: ObjectInfo
  modelLists?: ModelLists
  onProgress?: OnProgress
  signal?: AbortSignal
  /** How long to wait for another comfydock process working on this environment (ms). */
  lockTimeoutMs?: number
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

async function commitSteps (ws: Workspace, env: EnvPaths, message: string, opts: CommitOptions): Promise<CommitResult> {
  // Tracked workflows: snapshot + analysis into pyproject; unresolved issues stop here, before git.
  const workflows = await prepareWorkflowCommit(ws, env, {
    allowIssues: opts.allowIssues,
    contents: opts.workflowContents,
    keepMissing: opts.fromBrowser,
    objectInfo: opts.objectInfo,
    modelLists: opts.modelLists,
    onProgress: opts.onProgress,
    signal: opts.signal,
  })
  const git = openGit(env.cec)
  const status = await git.status()
  const changes = status.map(e => ({ status: statusCode(e), path: e.path }))
  const nothing = (): ComfydockError => new ComfydockError('NOTHING_TO_COMMIT', `nothing changed in environment "${env.name}" since the last commit`, {
    hint: 'Change something first (e.g. `comfydock node add ...`), or see `comfydock log`.',
  })
  if (changes.length === 0) throw nothing()
  const commit = await git.commit(message, { trackedOnly: !status.some(isUntracked) })
  if (!commit) throw nothing()
  return { commit, short: commit.slice(0, 7), message, changes, workflows }
}

export async function commitEnvironment (ws: Workspace, env: EnvPaths, opts: CommitOptions): Promise<CommitResult> {
  const message = opts.message?.trim()
  if (!message) {
    throw new ComfydockError('INVALID_ARGUMENT', 'a commit needs a message', { hint: 'Run `comfydock commit -m "what changed"`.' })
  }
  return withEnvLock(env, 'comfydock commit', async () => {
    if (!opts.fromBrowser) return commitSteps(ws, env, message, opts)
    // a refused commit (unresolved issues, nothing new...) must not leave the tabs tracked but uncommitted
    return withManifestTransaction(env.pyproject, async () => {
      const names = Object.keys(opts.workflowContents ?? {})
      await trackWorkflows(env, names, { given: names })
      return commitSteps(ws, env, message, opts)
    })
  }, { timeoutMs: opts.lockTimeoutMs, signal: opts.signal })
}
