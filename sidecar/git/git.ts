/**
 * @module A repository handle over the git CLI, the only git boundary of the sidecar: `.cec` history,
 * ComfyUI checkouts, pack clones and mirrors. Every call goes through runGit (one environment, no
 * prompts, protocol allow-list); results are typed, never raw lines. Revisions are validated and passed
 * after `--end-of-options`, paths after `--`. Commits fall back to a comfydock identity when the user has
 * none, so a fresh machine can still record history.
 */
import { readFile, realpath } from 'node:fs/promises'
import { join } from 'node:path'
import { ComfydockError } from '../errors'
import { runGit, type GitRunOptions } from './run-git'
import { parsePorcelainZ, type StatusEntry } from './status'
import { assertCommitId, assertRefName, assertRemoteUrl, assertRevision, gitUrlKind, type RemoteUrlPolicy } from './validate'
import type { RunResult } from '../exec'

const FALLBACK_IDENTITY = ['user.name=ComfyDock User', 'user.email=user@comfydock.local']

export interface LogEntry {
  commit: string
  short: string
  date: string
  subject: string
}

export interface RemoteOptions {
  /** Who named the URL decides whether a local path may be used (see RemoteUrlPolicy). */
  policy: RemoteUrlPolicy
  signal?: AbortSignal
}

export interface FetchOptions extends RemoteOptions {
  depth?: number
  prune?: boolean
  tags?: boolean
  force?: boolean
}

export interface Git {
  readonly dir: string
  init (): Promise<void>
  /** Stages `paths` (default: everything, `add -A`). */
  add (paths?: string[]): Promise<void>
  /** Stages changes to tracked files only (`add -u`). */
  addTracked (): Promise<void>
  /**
   * Stages everything (`all`, the default) and commits. Returns the new commit id, or null when nothing
   * changed. `trackedOnly`: the caller's status shows no untracked files, so `commit -a` stages the same
   * in one git process less.
   */
  commit (message: string, opts?: { all?: boolean, trackedOnly?: boolean }): Promise<string | null>
  /** Changed paths, from `status --porcelain=v1 -z --untracked-files=all`: any file name round-trips. */
  status (): Promise<StatusEntry[]>
  isClean (): Promise<boolean>
  log (opts?: { limit?: number, paths?: string[] }): Promise<LogEntry[]>
  /** The full commit id `rev` names, or null. */
  revParse (rev: string): Promise<string | null>
  /** The commit HEAD is at, or null (no commits, or not a repository). */
  head (): Promise<string | null>
  /**
   * HEAD of the repository whose top folder is `dir` itself, or null: git would otherwise answer for an
   * enclosing repository (a workspace kept inside the user's own).
   */
  ownHead (): Promise<{ top: string, head: string } | null>
  /** True when the repository has the commit. */
  hasCommit (commit: string): Promise<boolean>
  /** A file's text at `rev`, or null when it is not there. */
  show (rev: string, path: string): Promise<string | null>
  /** For each `[rev, path]`, whether that commit holds that file: one git process for any number. */
  holds (pairs: Array<[rev: string, path: string]>): Promise<boolean[]>
  hasCommits (): Promise<boolean>
  /** The commit a submodule at `path` is pinned to in HEAD, or undefined. */
  gitlink (path: string): Promise<string | undefined>
  /** Every file path in the tree of `rev`. */
  listFiles (rev: string): Promise<string[]>
  /** Paths that `diff from to` shows with the given status letters (e.g. "A"). */
  diffNames (from: string, to: string, filter?: string): Promise<string[]>
  /** Puts the files of `rev` into the work tree and index under `pathspec` (default: everything). */
  checkoutFiles (rev: string, pathspec?: string): Promise<void>
  /** Detaches HEAD at a commit id (or FETCH_HEAD). */
  checkoutDetached (commit: string): Promise<void>
  tag (name: string, commit?: string): Promise<void>
  configGet (key: string, opts?: { file?: string }): Promise<string | undefined>
  /** Every `key value` whose key matches the regular expression. */
  configGetAll (keyPattern: string): Promise<Array<{ key: string, value: string }>>
  configSet (key: string, value: string): Promise<void>
  remoteSetUrl (name: string, url: string): Promise<void>
  /** Fetches `refspecs` from a URL (checked against its policy) or a remote name. */
  fetch (from: string, refspecs: string[], opts: FetchOptions): Promise<void>
  /** `submodule init`, then `submodule update` (optionally `--init --recursive`). */
  submoduleInit (): Promise<void>
  submoduleUpdate (opts: RemoteOptions & { recursive?: boolean }): Promise<void>
  /** Pushes `refspecs` to a remote name or a URL checked against its policy (for teams' push). */
  push (to: string, refspecs: string[], opts: RemoteOptions): Promise<void>
  /** Named remotes and their URLs (`remote.<name>.url`), sorted by name. */
  remotes (): Promise<Array<{ name: string, url: string }>>
  /** Adds a remote; its URL is checked against `policy` now and again on every fetch and push. */
  remoteAdd (name: string, url: string, policy: RemoteUrlPolicy): Promise<void>
  remoteRemove (name: string): Promise<void>
  /** The branch HEAD is on, or null when detached. */
  currentBranch (): Promise<string | null>
  /** The best common ancestor of two commits, or null when their histories are unrelated. */
  mergeBase (a: string, b: string): Promise<string | null>
  /** True when `ancestor` is reachable from `descendant` (or equal to it). */
  isAncestor (ancestor: string, descendant: string): Promise<boolean>
  /** Moves the current branch forward to `commit`, updating the work tree; refuses anything but a fast-forward. */
  mergeFastForward (commit: string): Promise<void>
  /**
   * Starts a merge of `commit` that keeps our tree as it is (`-s ours --no-commit`): the caller writes
   * the merged files and commits, so the merge commit has both parents.
   */
  startMerge (commit: string): Promise<void>
  /** Gives up a merge started by startMerge (`merge --abort`: changes made in the work tree since stay). */
  abortMerge (): Promise<void>
  /** Tracked files back to HEAD (`reset --hard`): only for changes the caller itself made. */
  resetHard (): Promise<void>
}

/** Identity settings per repository, looked up once per process (one `git config` instead of two per commit). */
const identityCache = new Map<string, Promise<string[]>>()

function identityConfig (dir: string): Promise<string[]> {
  let cached = identityCache.get(dir)
  if (!cached) {
    cached = runGit(['config', '--get-regexp', '^user\\.(name|email)$'], { dir, allowFailure: true }).then(res => {
      const keys = new Set(res.stdout.split('\n').map(line => line.split(' ')[0]))
      return keys.has('user.name') && keys.has('user.email') ? [] : FALLBACK_IDENTITY
    })
    identityCache.set(dir, cached)
    cached.catch(() => identityCache.delete(dir))
  }
  return cached
}

/** The full id from `git commit`'s summary line, "[main (root-commit) <id>] subject", printed with core.abbrev=no. */
function summaryCommitId (stdout: string): string | null {
  return /^\[[^\]]*?\b([0-9a-f]{40}|[0-9a-f]{64})\]/m.exec(stdout)?.[1] ?? null
}

function commitFailure (dir: string, res: RunResult): ComfydockError {
  const tail = (res.stderr.trim() || res.stdout.trim()).split('\n').slice(-15).join('\n')
  return new ComfydockError('GIT_FAILED', `git commit failed in ${dir} (exit ${res.code})${tail ? `:\n${tail}` : ''}`)
}

/** The runGit switches for talking to `url`: which transports its policy lets through. */
export async function remoteRunOptions (url: string, opts: RemoteOptions, what = 'git URL'): Promise<GitRunOptions> {
  assertRemoteUrl(url, opts.policy, what)
  const r = gitUrlKind(url)
  const kind = 'kind' in r ? r.kind : undefined
  const local = kind === 'file' || kind === 'local' || await rewrittenToLocal(url)
  return { remote: true, signal: opts.signal, allowLocal: local, allowHttp: kind === 'http-loopback' }
}

/**
 * True when the user's own git config rewrites `url` to a local path (`url.<path>.insteadOf`, e.g. an
 * offline mirror of GitHub): a source the user configured, so git may read it.
 */
async function rewrittenToLocal (url: string): Promise<boolean> {
  const res = await runGit(['config', '-z', '--get-regexp', '^url\\..*\\.insteadof$'], { allowFailure: true })
  if (res.code !== 0) return false
  for (const rec of res.stdout.split('\0').filter(Boolean)) {
    const nl = rec.indexOf('\n')
    const key = rec.slice(0, nl)
    const prefix = rec.slice(nl + 1)
    const base = key.slice('url.'.length, -'.insteadof'.length)
    const k = gitUrlKind(base)
    if (prefix && url.startsWith(prefix) && 'kind' in k && (k.kind === 'file' || k.kind === 'local')) return true
  }
  return false
}

/** A remote given by name (`origin`) uses the URL configured for it; anything else is a URL and is checked. */
const isRemoteName = (s: string): boolean => /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(s) && !s.includes('..')

/** A remote's name as `remote add` takes it: letters, digits, `.`, `_`, `-`; never an option. */
function assertRemoteName (name: string): string {
  if (!isRemoteName(name) || name.length > 100) {
    throw new ComfydockError('INVALID_ARGUMENT', `"${name}" is not a usable remote name`, { hint: 'Use letters, digits, ".", "_" and "-", e.g. `origin` or `team`.' })
  }
  return name
}

/** A refspec we pass on: `[+]src[:dst]` of ref names or commit ids, never an option. */
function assertRefspec (spec: string): string {
  const body = spec.startsWith('+') ? spec.slice(1) : spec
  for (const side of body.split(':')) {
    if (side === '' && body.includes(':')) continue
    if (/^[0-9a-f]{7,64}$/i.test(side) || side === 'HEAD') continue
    assertRefName(side.replace(/\*/g, 'x'), 'refspec')
  }
  return spec
}

/**
 * The commit of a checkout whose HEAD is detached, read from `<dir>/.git/HEAD` without starting git (as
 * ComfyUI checkouts and pack clones are: `status` reads many of them). Undefined when HEAD is a branch,
 * `.git` is a file (worktree, submodule) or absent: git answers those.
 */
async function detachedHead (dir: string): Promise<string | undefined> {
  const text = await readFile(join(dir, '.git', 'HEAD'), 'utf8').catch(() => '')
  return /^[0-9a-f]{40}(?:[0-9a-f]{24})?\n?$/.exec(text)?.[0].trim()
}

export function openGit (dir: string): Git {
  const git = (args: string[], opts: GitRunOptions = {}) => runGit(args, { dir, ...opts })
  const ok = async (args: string[], opts: GitRunOptions = {}): Promise<RunResult | null> => {
    const res = await git(args, { ...opts, allowFailure: true })
    return res.code === 0 ? res : null
  }
  /** A remote name is checked by the URL configured for it: the policy holds whichever way it is named. */
  const remoteOptionsFor = async (remote: string, opts: RemoteOptions): Promise<GitRunOptions> => {
    if (!isRemoteName(remote)) return await remoteRunOptions(remote, opts)
    const url = await handle.configGet(`remote.${remote}.url`)
    if (url === undefined) throw new ComfydockError('GIT_FAILED', `${dir} has no remote "${remote}"`)
    return await remoteRunOptions(url, opts)
  }
  const handle: Git = {
    dir,
    async init () {
      await git(['init', '-q', '-b', 'main'])
    },
    async add (paths) {
      await git(paths ? ['add', '--', ...paths] : ['add', '-A'])
    },
    async addTracked () {
      await git(['add', '-u', '--', '.'])
    },
    async commit (message, opts = {}) {
      const all = opts.all !== false
      const stage = all && opts.trackedOnly ? ['-a'] : []
      if (all && !opts.trackedOnly) await git(['add', '-A'])
      // One `git commit`: its summary line carries the id, and its refusal tells "nothing to commit".
      const attempt = async (extra: string[]): Promise<RunResult> =>
        git(['commit', ...stage, ...extra, '-m', message], { config: [...await identityConfig(dir), 'core.abbrev=no'], allowFailure: true })
      let res = await attempt([])
      if (res.code !== 0) {
        const quiet = async (args: string[]): Promise<boolean> => (await ok([...args, '--quiet'])) !== null
        // Nothing to record: the index matches HEAD and, with -a, tracked files match the index. Else a real failure (a hook...).
        const nothing = await quiet(['diff', '--cached']) && (stage.length === 0 || await quiet(['diff']))
        if (!nothing) throw commitFailure(dir, res)
        if (await handle.hasCommits()) return null
        // A repository without commits gets its first one even when empty: history always has a root.
        res = await attempt(['--allow-empty'])
        if (res.code !== 0) throw commitFailure(dir, res)
      }
      return summaryCommitId(res.stdout) ?? (await handle.head()) ?? ''
    },
    async status () {
      return parsePorcelainZ((await git(['status', '--porcelain=v1', '-z', '--untracked-files=all'])).stdout)
    },
    async isClean () {
      return (await handle.status()).length === 0
    },
    async log (opts = {}) {
      const args = ['log', '--pretty=format:%H%x1f%h%x1f%aI%x1f%s%x1e']
      if (opts.limit) args.push(`-n${Math.max(1, Math.floor(opts.limit))}`)
      args.push('--', ...(opts.paths ?? []))
      // One git process: only when `git log` fails is HEAD asked for, to tell "no commits yet" from an error.
      let res = await git(args, { allowFailure: true })
      if (res.code !== 0) {
        if (!(await handle.hasCommits())) return []
        res = await git(args)
      }
      const out = res.stdout
      return out.split('\x1e').map(r => r.replace(/^\n/, '')).filter(Boolean).map(record => {
        const [commit, short, date, subject] = record.split('\x1f')
        return { commit, short, date, subject }
      })
    },
    async revParse (rev) {
      const res = await ok(['rev-parse', '--verify', '--quiet', '--end-of-options', `${assertRevision(rev)}^{commit}`])
      return res ? res.stdout.trim() : null
    },
    async head () {
      const detached = await detachedHead(dir)
      if (detached) return detached
      const res = await ok(['rev-parse', '--verify', '--quiet', 'HEAD'])
      return res ? res.stdout.trim() : null
    },
    async ownHead () {
      const detached = await detachedHead(dir)
      if (detached) return { top: await realpath(dir), head: detached }
      const res = await ok(['rev-parse', '--show-toplevel', 'HEAD'])
      if (!res) return null
      const [top, head] = res.stdout.trim().split('\n')
      return top && head ? { top, head: head.trim() } : null
    },
    async hasCommit (commit) {
      return (await ok(['cat-file', '-e', '--end-of-options', `${assertCommitId(commit)}^{commit}`])) !== null
    },
    async show (rev, path) {
      const res = await ok(['show', '--end-of-options', `${assertRevision(rev)}:${path}`])
      return res ? res.stdout : null
    },
    async holds (pairs) {
      // a line break in a path would split the batch line: such a path is never in our repositories
      const asked = pairs.map(([rev, path]) => /[\n\r]/.test(path) ? null : `${assertRevision(rev)}:${path}`)
      const lines = asked.filter((a): a is string => a !== null)
      if (!lines.length) return pairs.map(() => false)
      const res = await git(['cat-file', '--batch-check=%(objecttype)'], { input: lines.join('\n') + '\n', allowFailure: true })
      const answers = res.code === 0 ? res.stdout.split('\n') : []
      let i = 0
      return asked.map(a => a !== null && answers[i++] === 'blob')
    },
    async hasCommits () {
      return (await handle.head()) !== null
    },
    async gitlink (path) {
      const res = await ok(['ls-tree', '-z', 'HEAD', '--', path])
      const m = res ? /^160000 commit ([0-9a-f]{40,64})\t/.exec(res.stdout) : null
      return m ? m[1] : undefined
    },
    async listFiles (rev) {
      return (await git(['ls-tree', '-r', '--name-only', '-z', '--end-of-options', assertRevision(rev)])).stdout.split('\0').filter(Boolean)
    },
    async diffNames (from, to, filter) {
      const args = ['diff', '--name-only', '-z', ...(filter ? [`--diff-filter=${filter}`] : []), '--end-of-options', assertRevision(from), assertRevision(to), '--']
      return (await git(args)).stdout.split('\0').filter(Boolean)
    },
    async checkoutFiles (rev, pathspec = '.') {
      // `checkout` takes no --end-of-options (git 2.39); a validated revision never starts with "-"
      await git(['checkout', assertRevision(rev), '--', pathspec])
    },
    async checkoutDetached (commit) {
      // a commit id is hex (never an option); `checkout --detach` takes no --end-of-options
      await git(['checkout', '-q', '--detach', commit === 'FETCH_HEAD' ? commit : assertCommitId(commit)])
    },
    async tag (name, commit = 'HEAD') {
      await git(['tag', assertRefName(name, 'tag'), commit === 'HEAD' ? commit : assertCommitId(commit)])
    },
    async configGet (key, opts = {}) {
      const res = await ok(['config', ...(opts.file ? ['-f', opts.file] : []), '--get', key])
      return res ? res.stdout.replace(/\n$/, '') : undefined
    },
    async configGetAll (keyPattern) {
      const res = await ok(['config', '-z', '--get-regexp', keyPattern])
      if (!res) return []
      return res.stdout.split('\0').filter(Boolean).map(rec => {
        const nl = rec.indexOf('\n')
        return nl < 0 ? { key: rec, value: '' } : { key: rec.slice(0, nl), value: rec.slice(nl + 1) }
      })
    },
    async configSet (key, value) {
      await git(['config', key, value])
    },
    async remoteSetUrl (name, url) {
      await git(['remote', 'set-url', name, url])
    },
    async fetch (from, refspecs, opts) {
      const run = await remoteOptionsFor(from, opts)
      const flags = ['-q', ...(opts.depth ? ['--depth', String(Math.floor(opts.depth))] : []), ...(opts.prune ? ['--prune'] : []), ...(opts.tags ? ['--tags'] : []), ...(opts.force ? ['--force'] : [])]
      await git(['fetch', ...flags, '--end-of-options', from, ...refspecs.map(assertRefspec)], run)
    },
    async submoduleInit () {
      await git(['submodule', '--quiet', 'init'])
    },
    async submoduleUpdate (opts) {
      const allowLocal = opts.policy.allowLocal === true
      await git(['submodule', 'update', '--quiet', ...(opts.recursive ? ['--init', '--recursive'] : [])], { remote: true, signal: opts.signal, allowLocal })
    },
    async push (to, refspecs, opts) {
      const run = await remoteOptionsFor(to, opts)
      await git(['push', '-q', '--end-of-options', to, ...refspecs.map(assertRefspec)], run)
    },
    async remotes () {
      const urls = await handle.configGetAll('^remote\\..*\\.url$')
      return urls.map(({ key, value }) => ({ name: key.slice('remote.'.length, -'.url'.length), url: value }))
        .sort((a, b) => a.name.localeCompare(b.name))
    },
    async remoteAdd (name, url, policy) {
      assertRemoteName(name)
      assertRemoteUrl(url, policy, 'remote URL')
      await git(['remote', 'add', '--', name, url])
    },
    async remoteRemove (name) {
      await git(['remote', 'remove', assertRemoteName(name)])
    },
    async currentBranch () {
      const res = await ok(['symbolic-ref', '--quiet', '--short', 'HEAD'])
      return res ? res.stdout.trim() : null
    },
    async mergeBase (a, b) {
      const res = await ok(['merge-base', '--end-of-options', assertRevision(a), assertRevision(b)])
      return res ? res.stdout.trim() : null
    },
    async isAncestor (ancestor, descendant) {
      return (await ok(['merge-base', '--is-ancestor', '--end-of-options', assertRevision(ancestor), assertRevision(descendant)])) !== null
    },
    async mergeFastForward (commit) {
      await git(['merge', '-q', '--ff-only', assertCommitId(commit)])
    },
    async startMerge (commit) {
      await git(['merge', '-q', '--no-ff', '--no-commit', '-s', 'ours', assertCommitId(commit)], { config: await identityConfig(dir) })
    },
    async abortMerge () {
      await ok(['merge', '--abort'])
    },
    async resetHard () {
      await git(['reset', '-q', '--hard', 'HEAD'])
    },
  }
  return handle
}
