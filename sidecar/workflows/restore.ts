/**
 * @module `workflow restore NAME [--ref REF]`: put a committed version back into the ComfyUI user folder and
 * return its JSON (the browser loads it into a tab). A live copy with changes not yet committed is only
 * replaced when the caller says so.
 */
import { ComfydockError } from '../errors'
import { writeFileAtomic } from '../fs'
import { openGit } from '../git'
import type { EnvPaths, Workspace } from '../workspace'
import { parseLenientJson } from './lenient-json'
import { assertWorkflowName, readSnapshot, readUserWorkflow, userWorkflowFile } from './store'
import { readBrowserWorkflows } from './live-copy'
import { listWorkflows, sameWorkflow, trackedNames } from './tracking'

export interface RestoreOptions {
  /** A git ref of the environment (commit, tag, `HEAD~2`); default: the snapshot of the last commit. */
  ref?: string
  /** Replace a live copy that has uncommitted changes. */
  overwrite?: boolean
}

export interface RestoreResult {
  name: string
  ref: string
  path: string
  /** False when the live file already had this content. */
  written: boolean
  workflow: unknown
}

export async function restoreWorkflow (_ws: Workspace | undefined, env: EnvPaths, nameArg: string, opts: RestoreOptions = {}): Promise<RestoreResult> {
  const name = assertWorkflowName(nameArg)
  const git = openGit(env.cec)
  const ref = opts.ref ?? 'HEAD'
  if (!(await git.revParse(`${ref}^{commit}`))) {
    throw new ComfydockError('REF_NOT_FOUND', `no commit "${ref}" in environment "${env.name}"`, { hint: 'Run `comfydock log` to see commits.' })
  }
  const text = await git.show(ref, `workflows/${name}.json`)
  if (text === null) {
    throw new ComfydockError('WORKFLOW_NOT_FOUND', `workflow "${name}" is not in commit ${ref}`, { hint: 'Run `comfydock log` and pick a commit that has it, or `comfydock workflow list`.' })
  }
  const bytes = Buffer.from(text, 'utf8')
  const live = await readUserWorkflow(env, name)
  const path = userWorkflowFile(env, name)
  const workflow = parseLenientJson(text)
  if (live && sameWorkflow(live, bytes)) return { name, ref, path, written: false, workflow }
  if (live && !opts.overwrite) {
    // Unsaved work = the live file differs from the last committed snapshot and from the recent versions.
    const snap = await readSnapshot(env, name)
    if ((!snap || !sameWorkflow(live, snap)) && !(await isCommittedVersion(git, name, live))) {
      throw new ComfydockError('UNCOMMITTED_CHANGES', `workflow "${name}" has changes that are not committed`, {
        hint: `Commit them first (\`comfydock commit -m "..."\`), or re-run \`comfydock workflow restore ${name}${opts.ref ? ` --ref ${opts.ref}` : ''} --yes\` to discard them.`,
      })
    }
  }
  await writeFileAtomic(path, bytes)
  return { name, ref, path, written: true, workflow }
}

/**
 * The live copy is one of the workflow's recent committed versions (an earlier restore put it there):
 * replacing it loses nothing, so there is nothing to ask.
 */
async function isCommittedVersion (git: ReturnType<typeof openGit>, name: string, live: Buffer): Promise<boolean> {
  const file = `workflows/${name}.json`
  for (const entry of await git.log({ limit: 20, paths: [file] })) {
    const text = await git.show(entry.commit, file)
    if (text !== null && sameWorkflow(live, Buffer.from(text, 'utf8'))) return true
  }
  return false
}

/**
 * Tracked workflows whose copy in ComfyUI's user folder holds work no commit has (edited since the last
 * commit, or tracked and never committed): what a rollback would overwrite.
 */
export async function workflowsWithUncommittedEdits (env: EnvPaths): Promise<string[]> {
  const git = openGit(env.cec)
  const out: string[] = []
  for (const w of await listWorkflows(undefined, env)) {
    if (!w.tracked || w.location !== 'user-folder' || (w.state !== 'modified' && w.state !== 'new')) continue
    // one of its recent committed versions (a restore put it there) is no work to lose
    const live = await readUserWorkflow(env, w.name)
    if (live && await isCommittedVersion(git, w.name, live)) continue
    out.push(w.name)
  }
  return out
}

/**
 * After `.cec` moved to another commit (rollback): every tracked workflow's copy in ComfyUI's user folder
 * becomes its committed snapshot, so ComfyUI opens the rolled-back version and status does not call the
 * old copy an edit to commit. Workflows that live in a browser tab are left to the browser; a user copy
 * of a workflow the commit does not track stays (untracked). Returns the names written.
 */
export async function writeSnapshotsToUserFolder (env: EnvPaths): Promise<string[]> {
  const inBrowser = await readBrowserWorkflows(env)
  const written: string[] = []
  for (const name of await trackedNames(env)) {
    if (inBrowser.has(name)) continue
    const snap = await readSnapshot(env, name)
    if (!snap) continue
    const live = await readUserWorkflow(env, name)
    if (live?.equals(snap)) continue
    await writeFileAtomic(userWorkflowFile(env, name), snap)
    written.push(name)
  }
  return written
}
