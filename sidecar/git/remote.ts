/**
 * @module Git calls that start from a URL rather than a repository: clone and ls-remote. Every URL is
 * checked against the caller's policy (https, ssh, git; local paths only for a source the user
 * configured) and passed after `--end-of-options` or `--`; each call can be cancelled.
 */
import { remoteRunOptions, type RemoteOptions } from './git'
import { runGit } from './run-git'

export interface CloneOptions extends RemoteOptions {
  /** A bare mirror of every ref (`--mirror`). */
  mirror?: boolean
  /** Clone without checking out a work tree. */
  noCheckout?: boolean
}

/** Clones `url` into `dest`, which must not exist. */
export async function cloneRepo (url: string, dest: string, opts: CloneOptions): Promise<void> {
  const flags = ['--quiet', ...(opts.mirror ? ['--mirror'] : []), ...(opts.noCheckout ? ['--no-checkout'] : [])]
  await runGit(['clone', ...flags, '--', url, dest], await remoteRunOptions(url, opts))
}

export interface RemoteRef {
  /** e.g. `refs/heads/main`, `refs/tags/v1.0`, `refs/tags/v1.0^{}` (peeled). */
  ref: string
  commit: string
}

/** The refs a remote advertises (`ls-remote`), optionally only branches and tags. */
export async function lsRemote (url: string, opts: RemoteOptions & { heads?: boolean, tags?: boolean }): Promise<RemoteRef[]> {
  const flags = [...(opts.heads ? ['--heads'] : []), ...(opts.tags ? ['--tags'] : [])]
  const res = await runGit(['ls-remote', ...flags, '--end-of-options', url], await remoteRunOptions(url, opts))
  const refs: RemoteRef[] = []
  for (const line of res.stdout.split('\n')) {
    const [commit, ref] = line.trim().split('\t')
    if (commit && ref) refs.push({ commit, ref })
  }
  return refs
}
