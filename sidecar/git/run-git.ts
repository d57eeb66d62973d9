/**
 * @module The one way the sidecar starts git. One environment for every call: no prompt can ever wait
 * for a user who is not there (terminal prompts and askpass off, ssh in BatchMode), while git's own
 * credential helpers still answer. Every call carries a protocol allow-list (https, ssh, git; file only
 * when the caller allows a local source), which git also applies to submodules and redirects.
 */
import { ComfydockError, redactSecrets } from '../errors'
import { run, type RunResult } from '../exec'
import { httpTimeouts } from '../net/http'

export interface GitRunOptions {
  /** Run in this folder (`git -C dir`). */
  dir?: string
  signal?: AbortSignal
  /** Return the result instead of throwing GitError on a non-zero exit. */
  allowFailure?: boolean
  /** Let file:// URLs and local paths through (a source the user configured, or our own caches). */
  allowLocal?: boolean
  /** Let http:// through (the caller checked the URL is on loopback). */
  allowHttp?: boolean
  /** The call talks to a remote: ssh gets BatchMode (resolved once per process). */
  remote?: boolean
  /** Extra `-c key=value` settings placed before the subcommand. */
  config?: string[]
  hint?: string
  input?: string
}

/** A failed git command: the exit code and stderr stay readable for callers that tell failures apart. */
export class GitError extends ComfydockError {
  readonly exitCode: number
  readonly stderr: string
  constructor (message: string, exitCode: number, stderr: string, hint?: string) {
    super('GIT_FAILED', message, { hint })
    this.exitCode = exitCode
    this.stderr = stderr
  }
}

const BASE_ENV = {
  GIT_TERMINAL_PROMPT: '0',
  // An empty GIT_ASKPASS makes git skip every askpass program (core.askPass, SSH_ASKPASS) and fail instead.
  GIT_ASKPASS: '',
  SSH_ASKPASS: '',
  SSH_ASKPASS_REQUIRE: 'never',
  // Messages in one language, so the few that callers match on read the same everywhere.
  LC_ALL: 'C',
  LANGUAGE: '',
}

const REPOSITORY_VARS = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_COMMON_DIR', 'GIT_PREFIX', 'GIT_NAMESPACE']

let sshCommand: Promise<string | undefined> | undefined

/**
 * The ssh command git would use, with BatchMode on: the user's GIT_SSH_COMMAND or core.sshCommand is kept
 * (their key choices stay), only prompting is turned off. A GIT_SSH program is left as it is.
 */
function batchSshCommand (): Promise<string | undefined> {
  sshCommand ??= (async () => {
    if (process.env.GIT_SSH && !process.env.GIT_SSH_COMMAND) return undefined
    let base = process.env.GIT_SSH_COMMAND
    if (!base) {
      const res = await run('git', ['config', '--get', 'core.sshCommand'], { env: { ...process.env, ...BASE_ENV }, allowFailure: true })
      base = res.stdout.trim() || 'ssh'
    }
    return `${base} -o BatchMode=yes`
  })()
  return sshCommand
}

function protocolConfig (opts: GitRunOptions): string[] {
  const allow = (proto: string, on: boolean): string[] => ['-c', `protocol.${proto}.allow=${on ? 'always' : 'never'}`]
  return [
    '-c', 'protocol.allow=never',
    ...allow('https', true), ...allow('ssh', true), ...allow('git', true),
    ...allow('http', opts.allowHttp === true), ...allow('file', opts.allowLocal === true),
  ]
}

/** Runs `git [-C dir] -c … <args>`. A failure becomes GitError (GIT_FAILED) with the tail of stderr, secrets redacted. */
export async function runGit (args: readonly string[], opts: GitRunOptions = {}): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...BASE_ENV }
  // Inherited repository pointers (comfydock run from a git hook) would send every call to another repository.
  for (const k of REPOSITORY_VARS) delete env[k]
  if (opts.remote) {
    const ssh = await batchSshCommand()
    if (ssh) env.GIT_SSH_COMMAND = ssh
    // A server that stops sending fails after the HTTP client's idle timeout, as downloads do (unless the user set their own).
    if (env.GIT_HTTP_LOW_SPEED_TIME === undefined) {
      env.GIT_HTTP_LOW_SPEED_LIMIT = '1'
      env.GIT_HTTP_LOW_SPEED_TIME = String(Math.max(1, Math.round(httpTimeouts().idleMs / 1000)))
    }
  }
  const full = [
    ...(opts.dir ? ['-C', opts.dir] : []),
    ...protocolConfig(opts),
    ...(opts.config ?? []).flatMap(c => ['-c', c]),
    ...args,
  ]
  let res: RunResult
  try {
    res = await run('git', full, { env, signal: opts.signal, allowFailure: true, input: opts.input, hint: opts.hint })
  } catch (err) {
    if (err instanceof ComfydockError && err.code === 'COMMAND_NOT_FOUND') {
      throw new ComfydockError('COMMAND_NOT_FOUND', 'git was not found on PATH', { hint: 'Install git (https://git-scm.com/downloads) and run the command again.', cause: err })
    }
    throw err
  }
  if (res.code !== 0 && !opts.allowFailure) {
    const tail = redactSecrets((res.stderr.trim() || res.stdout.trim()).split('\n').slice(-15).join('\n'))
    const sub = args.find(a => !a.startsWith('-')) ?? 'git'
    throw new GitError(`git ${sub} failed${opts.dir ? ` in ${opts.dir}` : ''} (exit ${res.code})${tail ? `:\n${tail}` : ''}`, res.code, res.stderr, opts.hint)
  }
  return res
}
