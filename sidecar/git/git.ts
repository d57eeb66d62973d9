/**
 * @module A thin wrapper over the git CLI. Every call is `git -C <dir> ...`; commits fall back to a
 * comfydock identity when the user has none, so a fresh machine can still record history.
 */
import { ComfydockError } from '../errors'
import { run, type RunOptions, type RunResult } from '../exec'

const FALLBACK_IDENTITY = ['-c', 'user.name=ComfyDock User', '-c', 'user.email=user@comfydock.local']

export interface LogEntry {
  commit: string
  short: string
  date: string
  subject: string
}

export interface Git {
  readonly dir: string
  raw (args: string[], opts?: RunOptions): Promise<string>
  init (): Promise<void>
  add (paths?: string[]): Promise<void>
  /**
   * Stages everything (`all`, the default) and commits. Returns the new commit id, or null when nothing
   * changed. `trackedOnly`: the caller's status shows no untracked files, so `commit -a` stages the same
   * in one git process less.
   */
  commit (message: string, opts?: { all?: boolean, trackedOnly?: boolean }): Promise<string | null>
  /** Porcelain v1 lines, e.g. ` M pyproject.toml`. */
  status (): Promise<string[]>
  isClean (): Promise<boolean>
  log (opts?: { limit?: number, paths?: string[] }): Promise<LogEntry[]>
  revParse (ref: string): Promise<string | null>
  show (ref: string, path: string): Promise<string | null>
  hasCommits (): Promise<boolean>
}

/** Identity flags per repository, looked up once per process (one `git config` instead of two per commit). */
const identityCache = new Map<string, Promise<string[]>>()

function identityArgs (dir: string): Promise<string[]> {
  let cached = identityCache.get(dir)
  if (!cached) {
    cached = run('git', ['-C', dir, 'config', '--get-regexp', '^user\\.(name|email)$'], { allowFailure: true }).then(res => {
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

export function openGit (dir: string): Git {
  const raw = async (args: string[], opts: RunOptions = {}): Promise<string> => {
    try {
      return (await run('git', ['-C', dir, ...args], opts)).stdout
    } catch (err) {
      if (err instanceof ComfydockError && err.code === 'COMMAND_FAILED') {
        throw new ComfydockError('GIT_FAILED', err.message, { hint: opts.hint, cause: err })
      }
      throw err
    }
  }
  return {
    dir,
    raw,
    async init () {
      await raw(['init', '-q', '-b', 'main'])
    },
    async add (paths = ['-A']) {
      await raw(['add', ...paths])
    },
    async commit (message, opts = {}) {
      const all = opts.all !== false
      const stage = all && opts.trackedOnly ? ['-a'] : []
      if (all && !opts.trackedOnly) await raw(['add', '-A'])
      // One `git commit`: its summary line carries the id, and its refusal tells "nothing to commit".
      const attempt = async (extra: string[]): Promise<RunResult> =>
        run('git', ['-C', dir, ...await identityArgs(dir), '-c', 'core.abbrev=no', 'commit', ...stage, ...extra, '-m', message], { allowFailure: true })
      let res = await attempt([])
      if (res.code !== 0) {
        const quiet = async (args: string[]): Promise<boolean> => (await run('git', ['-C', dir, ...args, '--quiet'], { allowFailure: true })).code === 0
        // Nothing to record: the index matches HEAD and, with -a, tracked files match the index. Else a real failure (a hook...).
        const nothing = await quiet(['diff', '--cached']) && (stage.length === 0 || await quiet(['diff']))
        if (!nothing) throw commitFailure(dir, res)
        if (await this.hasCommits()) return null
        // A repository without commits gets its first one even when empty: history always has a root.
        res = await attempt(['--allow-empty'])
        if (res.code !== 0) throw commitFailure(dir, res)
      }
      return summaryCommitId(res.stdout) ?? (await raw(['rev-parse', 'HEAD'])).trim()
    },
    async status () {
      const out = await raw(['status', '--porcelain', '--untracked-files=all'])
      return out.split('\n').filter(Boolean)
    },
    async isClean () {
      return (await this.status()).length === 0
    },
    async log (opts = {}) {
      if (!(await this.hasCommits())) return []
      const args = ['log', '--pretty=format:%H%x1f%h%x1f%aI%x1f%s']
      if (opts.limit) args.push(`-n${opts.limit}`)
      if (opts.paths) args.push('--', ...opts.paths)
      const out = await raw(args)
      return out.split('\n').filter(Boolean).map(line => {
        const [commit, short, date, subject] = line.split('\x1f')
        return { commit, short, date, subject }
      })
    },
    async revParse (ref) {
      const res = await run('git', ['-C', dir, 'rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { allowFailure: true })
      return res.code === 0 ? res.stdout.trim() : null
    },
    async show (ref, path) {
      const res = await run('git', ['-C', dir, 'show', `${ref}:${path}`], { allowFailure: true })
      return res.code === 0 ? res.stdout : null
    },
    async hasCommits () {
      const res = await run('git', ['-C', dir, 'rev-parse', '--verify', '--quiet', 'HEAD'], { allowFailure: true })
      return res.code === 0
    },
  }
}
