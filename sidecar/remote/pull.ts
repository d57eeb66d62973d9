/**
 * @module `pull`: a teammate's commits into this environment. Plan first (fetch, then what changes and
 * what conflicts, with nothing touched), then apply: `.cec` moves forward (a fast-forward) or gets a
 * merge commit whose tree is the semantic merge (never a line merge), and the environment follows the
 * new manifest the way `repair` brings it there: ComfyUI's commit, packs, Python, workflows, models
 * (the team's store first). Uncommitted work is never lost: pull refuses, or, when asked, commits it
 * first so it is part of "mine" in the merge and stays in history.
 */
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { ComfydockError, toErrorPayload } from '../errors'
import { pathExists, safeDescendant } from '../fs'
import { explainRemoteFailure, isUntracked, openGit, type Git } from '../git'
import { readManifest } from '../manifest'
import type { RepairResult } from '../env'
import type { ErrorPayload, OnProgress } from '../protocol'
import { note, withTask } from '../progress'
import { packDir, type EnvPaths, type Workspace } from '../workspace'
import { emptySnapshot, readCecAt, writeCec } from './cec-at'
import type { ChangeSet, Choice, Conflict, CecSnapshot } from './merge'
import { requireRemote, USER_REMOTE_POLICY } from './remotes'

export interface PullOptions {
  /** Default `origin`. */
  remote?: string
  /** Answers to conflicts by id (`node:impact` → `theirs`), as the preview lists them. */
  choices?: Record<string, Choice>
  /** One answer for every conflict without its own (`both` applies to workflows; others then take mine). */
  prefer?: Choice
  /** Commit uncommitted work before merging (it is kept as a commit); without it pull refuses. */
  commitFirst?: boolean
  /** Which missing models to download afterwards (default all). */
  models?: 'all' | 'required' | 'skip'
  onProgress?: OnProgress
  signal?: AbortSignal
}

/** What a pull would do: the part the CLI prints and the panel shows (`env.pullPreview`). */
export interface PullPreview {
  environment: string
  remote: string
  url: string
  branch: string
  /** up-to-date: nothing to take; fast-forward: only theirs changed; merge: both sides have commits. */
  kind: 'up-to-date' | 'fast-forward' | 'merge'
  mine: string | null
  theirs: string | null
  base: string | null
  /** What the environment changes by, from this machine's last commit to the result. */
  changes: ChangeSet | null
  conflicts: Conflict[]
  /** Conflict ids still without a choice: apply refuses until each has one. */
  unresolved: string[]
  notes: string[]
  /** Uncommitted work (paths in .cec, workflows edited in ComfyUI): pull refuses unless told to commit it first. */
  uncommitted: string[]
}

export interface PullPlan {
  preview: PullPreview
  /** Commit made of uncommitted work before the merge (commitFirst). */
  committedFirst?: string
  snapshots?: { base: CecSnapshot, mine: CecSnapshot, theirs: CecSnapshot, result?: CecSnapshot }
}

export interface PullResult {
  preview: PullPreview
  /** The commit `.cec` is at afterwards (the merge commit, or theirs after a fast-forward). */
  commit: string | null
  committedFirst?: string
  comfyuiChanged: boolean
  /** kept: ComfyUI's copy differs from what was committed here, so the pull left it as it is. */
  workflows: { written: string[], removed: string[], kept: string[] }
  packs: { removed: string[], kept: Array<{ id: string, why: string }> }
  repair?: RepairResult
  error?: ErrorPayload
  ok: boolean
}

/** Uncommitted work a pull could overwrite: changed files in `.cec`, and tracked workflows edited in ComfyUI. */
async function uncommittedWork (ws: Workspace, env: EnvPaths, git: Git): Promise<string[]> {
  const { listWorkflows } = await import('../workflows')
  const out = (await git.status()).map(e => `${isUntracked(e) ? 'new file' : 'changed'} .cec/${e.path}`)
  for (const w of await listWorkflows(ws, env)) {
    if (w.state === 'modified' || w.state === 'new') out.push(`workflow ${w.name} (${w.state === 'new' ? 'tracked, never committed' : 'edited since the last commit'})`)
  }
  return out
}

function remoteRef (remote: string, branch: string): string {
  return `refs/remotes/${remote}/${branch}`
}

/** Fetches and works out what the pull would change; nothing in the environment changes (but the fetched refs). */
export async function planPull (ws: Workspace, env: EnvPaths, opts: PullOptions = {}): Promise<PullPlan> {
  const git = openGit(env.cec)
  const remote = opts.remote ?? 'origin'
  const url = await requireRemote(env, git, remote)
  const branch = await git.currentBranch() ?? 'main'
  // a pull killed while writing its merge leaves git mid-merge: the merge is undone; what it wrote stays
  // as changes (edits made since could be the user's), so the uncommitted-work check below speaks for them
  if (await pathExists(join(env.cec, '.git', 'MERGE_HEAD'))) {
    await git.abortMerge()
    note(opts.onProgress, 'warn', 'an earlier pull stopped half-way through its merge; the merge was undone. Files it had already written show as uncommitted changes: `comfydock rollback HEAD --force` discards them')
  }
  await withTask(opts.onProgress, `fetch ${remote}`, {}, async () => {
    try {
      await git.fetch(remote, [`+refs/heads/${branch}:${remoteRef(remote, branch)}`], { policy: USER_REMOTE_POLICY, signal: opts.signal })
    } catch (err) {
      const explained = explainRemoteFailure(err, url, `fetching from ${remote}`)
      // an empty remote (nobody pushed yet) has no branch: nothing to pull
      if (!/couldn't find remote ref/i.test((err as { stderr?: string }).stderr ?? '')) throw explained
    }
  })
  let mine = await git.head()
  const theirs = await git.revParse(remoteRef(remote, branch))
  const preview: PullPreview = {
    environment: env.name, remote, url, branch, kind: 'up-to-date', mine, theirs, base: null,
    changes: null, conflicts: [], unresolved: [], notes: [], uncommitted: [],
  }
  if (!theirs || (mine && await git.isAncestor(theirs, mine))) return { preview }
  // past here there is something to merge: only now load the merge (and the workflow and node code it reads)
  const { describeChanges } = await import('./merge')
  preview.uncommitted = await uncommittedWork(ws, env, git)
  let committedFirst: string | undefined
  if (preview.uncommitted.length && opts.commitFirst) {
    const { commitEnvironment } = await import('../env')
    const res = await commitEnvironment(ws, env, { message: `Uncommitted work, kept before pulling ${remote}/${branch}`, allowIssues: true, onProgress: opts.onProgress, signal: opts.signal })
    committedFirst = res.commit
    note(opts.onProgress, 'info', `committed your uncommitted work first, as ${res.short}, so the pull cannot lose it`)
    preview.uncommitted = []
    mine = res.commit
    preview.mine = mine
  }
  const base = mine ? await git.mergeBase(mine, theirs) : null
  preview.base = base
  const theirsSnap = await readCecAt(git, theirs, `${remote}/${branch}`)
  const mineSnap = mine ? await readCecAt(git, mine, 'this environment') : emptySnapshot()
  if (mine && base === mine) {
    preview.kind = 'fast-forward'
    preview.changes = describeChanges(mineSnap, theirsSnap)
    return { preview, committedFirst, snapshots: { base: mineSnap, mine: mineSnap, theirs: theirsSnap, result: theirsSnap } }
  }
  preview.kind = 'merge'
  if (!base) preview.notes.push(`this environment and ${remote}/${branch} have no commit in common: they are merged as two sets of additions`)
  const baseSnap = base ? await readCecAt(git, base, 'the common ancestor') : emptySnapshot()
  const plan: PullPlan = { preview, committedFirst, snapshots: { base: baseSnap, mine: mineSnap, theirs: theirsSnap } }
  return resolvePull(plan, opts, await import('./merge'))
}

/**
 * Runs the merge again with (more) choices: the CLI asks on a terminal, then resolves. Pure. `merge` is the
 * merge module, loaded by planPull (a pull with nothing new never loads it).
 */
export function resolvePull (plan: PullPlan, opts: Pick<PullOptions, 'choices' | 'prefer'>, merge: typeof import('./merge')): PullPlan {
  const { describeChanges, mergeCec } = merge
  const s = plan.snapshots
  if (plan.preview.kind !== 'merge' || !s) return plan
  const resolver = (c: Conflict): Choice | undefined => {
    const given = opts.choices?.[c.id]
    if (given) return given
    if (!opts.prefer) return undefined
    return c.choices.includes(opts.prefer) ? opts.prefer : 'mine'
  }
  const outcome = mergeCec(s.base, s.mine, s.theirs, resolver)
  const preview: PullPreview = {
    ...plan.preview,
    conflicts: outcome.conflicts,
    unresolved: outcome.unresolved,
    notes: [...plan.preview.notes.filter(n => n.includes('no commit in common')), ...outcome.notes],
    // before every choice is made, the changes show what merges by itself (mine where undecided)
    changes: describeChanges(s.mine, outcome.result ?? mergeCec(s.base, s.mine, s.theirs, c => resolver(c) ?? 'mine').result!),
  }
  return { ...plan, preview, snapshots: { ...s, result: outcome.result } }
}

function conflictError (p: PullPreview): ComfydockError {
  const open = p.conflicts.filter(c => p.unresolved.includes(c.id))
  const lines = open.map(c => `  ${c.id}: ${c.label}: mine ${c.mine.summary}, theirs ${c.theirs.summary} (choose ${c.choices.join(' | ')})`)
  return new ComfydockError('MERGE_CONFLICT', `pulling ${p.remote}/${p.branch} into "${p.environment}" has ${open.length} conflict${open.length === 1 ? '' : 's'}; nothing was changed:\n${lines.join('\n')}`, {
    hint: `Choose for each: \`comfydock pull --choose ${open[0]?.id ?? '<id>'}=${open[0]?.choices[1] ?? 'theirs'}\` (repeatable), or for all: --mine, --theirs, or --keep-both (workflows kept under two names). On a terminal, pull asks.`,
  })
}

function uncommittedError (p: PullPreview): ComfydockError {
  return new ComfydockError('UNCOMMITTED_CHANGES', `environment "${p.environment}" has uncommitted work, which the pull could overwrite; nothing was changed:\n${p.uncommitted.map(u => `  ${u}`).join('\n')}`, {
    hint: 'Commit it (`comfydock commit -m "..."`) and pull again, or run `comfydock pull --commit-first` to have pull commit it for you.',
  })
}

/** Carries out a plan from planPull (with every conflict answered): `.cec` first, then the environment. */
export async function applyPull (ws: Workspace, env: EnvPaths, plan: PullPlan, opts: PullOptions = {}): Promise<PullResult> {
  const p = plan.preview
  const result: PullResult = {
    preview: p, commit: p.mine, comfyuiChanged: false, ok: true,
    ...(plan.committedFirst ? { committedFirst: plan.committedFirst } : {}),
    workflows: { written: [], removed: [], kept: [] },
    packs: { removed: [], kept: [] },
  }
  if (p.kind === 'up-to-date' || !plan.snapshots) return result
  if (p.uncommitted.length) throw uncommittedError(p)
  if (p.unresolved.length || !plan.snapshots.result) throw conflictError(p)
  const { mine, result: merged } = plan.snapshots
  const git = openGit(env.cec)
  const { withEnvLock } = await import('../env')
  result.commit = await withEnvLock(env, 'comfydock pull', async () => {
    // another process may have committed since the plan: its commit would be lost under our merge
    if (await git.head() !== p.mine) {
      throw new ComfydockError('ENV_BUSY', `environment "${env.name}" got a new commit while the pull was being planned; nothing was changed`, { hint: 'Run `comfydock pull` again.' })
    }
    if (p.kind === 'fast-forward') {
      await git.mergeFastForward(p.theirs!)
      return p.theirs
    }
    if (!p.mine) {
      // nothing committed here yet: the remote's history becomes this environment's
      await git.mergeFastForward(p.theirs!)
      return p.theirs
    }
    await git.startMerge(p.theirs!)
    try {
      await writeCec(env, mine, merged)
      return await git.commit(`Merge ${p.remote}/${p.branch} (${p.theirs!.slice(0, 7)})`)
    } catch (err) {
      // everything changed since the merge started is the merge's own (uncommitted work was refused)
      await git.abortMerge()
      await git.resetHard()
      for (const path of Object.keys(merged.files)) if (!(path in mine.files)) await rm(safeDescendant(env.cec, path), { force: true })
      throw err
    }
  }, { signal: opts.signal })
  await followManifest(ws, env, mine, merged, p.changes!, result, opts)
  return result
}

/** The environment after `.cec` moved: the way repair brings it to its manifest, plus what the pull removed. */
async function followManifest (ws: Workspace, env: EnvPaths, before: CecSnapshot, after: CecSnapshot, changes: ChangeSet, result: PullResult, opts: PullOptions): Promise<void> {
  const { applyRepair, checkoutComfyui, planRepair } = await import('../env')
  const { readBrowserWorkflows, sameWorkflow, userWorkflowFile } = await import('../workflows')
  try {
    const doc = await readManifest(env.pyproject)
    if (changes.comfyui) result.comfyuiChanged = await withTask(opts.onProgress, 'move ComfyUI to the pulled version', {}, () => checkoutComfyui(ws, env, doc, opts.signal))
    // Workflows: the pulled version replaces ComfyUI's copy (which was committed, so nothing is lost);
    // one that lives in a browser tab is left to the panel.
    const inBrowser = await readBrowserWorkflows(env)
    await mkdir(env.userWorkflows, { recursive: true })
    const wfAfter = doc.tool.comfydock.workflows ?? {}
    const wfBefore = before.manifest.tool.comfydock.workflows ?? {}
    /** ComfyUI's copy is exactly what this machine committed (or there is none): replacing it loses nothing. */
    const replaceable = async (name: string): Promise<boolean> => {
      const live = await readFile(userWorkflowFile(env, name)).catch(() => undefined)
      if (!live) return true
      const committed = wfBefore[name] ? before.files[wfBefore[name].path ?? `workflows/${name}.json`] : undefined
      return committed !== undefined && sameWorkflow(live, Buffer.from(committed))
    }
    for (const name of [...changes.workflows.added, ...changes.workflows.changed]) {
      const entry = wfAfter[name]
      if (!entry || inBrowser.has(name)) continue
      // a file saved in ComfyUI under the same name but never committed (not tracked) stays as it is
      if (!(await replaceable(name))) { result.workflows.kept.push(name); continue }
      await copyFile(safeDescendant(env.cec, entry.path ?? `workflows/${name}.json`, 'workflow path'), userWorkflowFile(env, name))
      result.workflows.written.push(name)
    }
    for (const name of changes.workflows.removed) {
      const file = userWorkflowFile(env, name)
      if (!(await pathExists(file))) continue
      if (await replaceable(name)) {
        await rm(file, { force: true })
        result.workflows.removed.push(name)
      } else {
        result.workflows.kept.push(name)
      }
    }
    // Packs the pull removed: deleted unless the folder holds work of its own (then kept and said).
    const { localWork } = await import('../nodes/local-work')
    const { createGitStore } = await import('../nodes/store')
    const store = createGitStore(ws.cache.nodes)
    for (const c of changes.packs.removed) {
      const entry = before.manifest.tool.comfydock.nodes?.[c.name]
      if (!entry) continue
      const dir = packDir(env, entry.name)
      if (!(await pathExists(dir))) continue
      const work = entry.source === 'development' ? 'a development node (your own code)' : await localWork(dir, store, entry.repository)
      if (work) { result.packs.kept.push({ id: c.name, why: work }); continue }
      await rm(dir, { recursive: true, force: true })
      result.packs.removed.push(c.name)
    }
    const ropts = { models: opts.models ?? 'all', onProgress: opts.onProgress, signal: opts.signal } as const
    const plan = await planRepair(ws, env, ropts)
    if (!plan.upToDate) result.repair = await applyRepair(ws, env, plan, ropts)
    result.ok = result.repair?.ok ?? true
  } catch (err) {
    if ((err as { code?: string }).code === 'CANCELLED' || opts.signal?.aborted) throw err
    // .cec has the pulled commit; what failed here `repair` finishes
    result.error = toErrorPayload(err)
    result.ok = false
  }
}

/** Plan, then apply: for scripts and the panel (conflicts answered by `choices`/`prefer`). */
export async function pullEnvironment (ws: Workspace, env: EnvPaths, opts: PullOptions = {}): Promise<PullResult> {
  return applyPull(ws, env, await planPull(ws, env, opts), opts)
}
