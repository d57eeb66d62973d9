/**
 * @module A thin wrapper over the git CLI. Every call is `git -C <dir> ...`; commits fall back to a
 * comfydock identity when the user has none, so a fresh machine can still record history.
 */
import { ComfydockError } from '../errors'
import { run, type RunOptions } from '../exec'

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
  /** Returns the new commit id, or null when nothing was staged. */
  commit (message: string, opts?: { all?: boolean }): Promise<string | null>
  /** Porcelain v1 lines, e.g. ` M pyproject.toml`. */
  status (): Promise<string[]>
  isClean (): Promise<boolean>
  log (opts?: { limit?: number, paths?: string[] }): Promise<LogEntry[]>
  revParse (ref: string): Promise<string | null>
  show (ref: string, path: string): Promise<string | null>
  hasCommits (): Promise<boolean>
}

async function hasIdentity (dir: string): Promise<boolean> {
  const name = await run('git', ['-C', dir, 'config', 'user.name'], { allowFailure: true })
  const email = await run('git', ['-C', dir, 'config', 'user.email'], { allowFailure: true })
  return name.code === 0 && email.code === 0
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
      if (opts.all !== false) await raw(['add', '-A'])
      const staged = await run('git', ['-C', dir, 'diff', '--cached', '--quiet'], { allowFailure: true })
      if (staged.code === 0 && await this.hasCommits()) return null
      const identity = (await hasIdentity(dir)) ? [] : FALLBACK_IDENTITY
      await raw([...identity, 'commit', '-q', '--allow-empty', '-m', message])
      return (await raw(['rev-parse', 'HEAD'])).trim()
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
