/**
 * @module What a failed fetch, push or clone means for the user. git says it in English on stderr (the
 * wrapper runs it with LC_ALL=C); the few messages that tell a missing login, an unreachable host, a
 * missing repository and a refused push apart become their own error codes, each with the fix.
 * Nothing here ever asks for a password: credentials come from git's own credential helpers.
 */
import { ComfydockError, redactSecrets } from '../errors'
import { GitError } from './run-git'

const AUTH = [
  /could not read (Username|Password) for/i, /terminal prompts disabled/i, /Authentication failed/i,
  /returned error: (401|403)/i, /HTTP Basic: Access denied/i, /Permission denied \(publickey/i, /Host key verification failed/i,
  /access denied/i, /invalid username or password/i,
]
const NOT_FOUND = [/Repository not found/i, /does not appear to be a git repository/i, /returned error: 404/i, /repository '.*' not found/i, /not found: did you run git update-server-info/i]
const UNREACHABLE = [/Could not resolve host/i, /Connection refused/i, /Failed to connect/i, /Connection timed out/i, /Could not read from remote repository/i, /unable to access/i, /Network is unreachable/i]
const REJECTED = [/\[rejected\]/, /non-fast-forward/i, /fetch first/i, /Updates were rejected/i]

function host (url: string): string {
  try { return new URL(url).host } catch { return /^(?:[^@]+@)?([^:/]+):/.exec(url)?.[1] ?? url }
}

/**
 * The error to show for a failed remote git call to `url` (`what`: "pushing to origin"). Errors that are
 * not git's own, or git failures none of the patterns know, pass through unchanged.
 */
export function explainRemoteFailure (err: unknown, url: string, what: string): unknown {
  if (!(err instanceof GitError)) return err
  const text = err.stderr || err.message
  const shown = redactSecrets(url)
  const tail = redactSecrets(text.trim().split('\n').filter(Boolean).slice(-3).join('\n'))
  if (REJECTED.some(r => r.test(text))) {
    return new ComfydockError('PUSH_REJECTED', `${what}: ${shown} has commits this environment does not have`, {
      hint: 'Run `comfydock pull` first (it merges them and shows any conflict), then `comfydock push` again.', cause: err,
    })
  }
  if (AUTH.some(r => r.test(text))) {
    const ssh = !/^https?:\/\//.test(url)
    return new ComfydockError('REMOTE_AUTH_FAILED', `${what}: ${host(url)} did not accept the login (${tail.split('\n').pop()})`, {
      hint: ssh
        ? `comfydock logs in with your ssh keys and never asks: add your key to the ssh agent (\`ssh-add\`) and check \`ssh -T ${host(url)}\`, then run the command again.`
        : `comfydock never asks for a password: git's credential helper must know the login. Run \`git ls-remote ${shown}\` once in a terminal and log in (with a credential helper set, e.g. \`git config --global credential.helper store\` or your platform's manager), or use an ssh URL; then run the command again.`,
      cause: err,
    })
  }
  if (NOT_FOUND.some(r => r.test(text))) {
    return new ComfydockError('REMOTE_NOT_FOUND', `${what}: there is no repository at ${shown}`, {
      hint: 'Check the URL (`comfydock remote list`), and that the repository exists and you may read it.', cause: err,
    })
  }
  if (UNREACHABLE.some(r => r.test(text))) {
    return new ComfydockError('REMOTE_UNREACHABLE', `${what}: cannot reach ${host(url)} (${tail.split('\n').pop()})`, {
      hint: 'Check the network and the URL (`comfydock remote list`), then run the command again.', cause: err,
    })
  }
  return err
}
