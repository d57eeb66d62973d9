/**
 * @module `remote add|remove|list`: where an environment's `.cec` travels. A remote is git's own
 * (`remote.<name>.url` in `.cec/.git/config`), so plain git sees the same remotes. The user typed the
 * URL, so a local path or file:// URL is allowed (a shared folder, a bare repository on a mounted disk).
 */
import { ComfydockError, redactSecrets } from '../errors'
import { openGit, type Git } from '../git'
import type { EnvPaths } from '../workspace'

export interface RemoteInfo {
  name: string
  /** Credentials in the URL are never shown. */
  url: string
}

/** Remotes the user names are theirs: local paths included. */
export const USER_REMOTE_POLICY = { allowLocal: true }

export async function listRemotes (env: EnvPaths): Promise<RemoteInfo[]> {
  return (await openGit(env.cec).remotes()).map(r => ({ name: r.name, url: redactSecrets(r.url) }))
}

export async function addRemote (env: EnvPaths, name: string, url: string): Promise<RemoteInfo> {
  const git = openGit(env.cec)
  if ((await git.remotes()).some(r => r.name === name)) {
    throw new ComfydockError('REMOTE_EXISTS', `environment "${env.name}" already has a remote "${name}"`, {
      hint: `Remove it first with \`comfydock remote remove ${name}\`, or pick another name.`,
    })
  }
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]*@/i.test(url)) {
    throw new ComfydockError('INVALID_ARGUMENT', 'the remote URL holds a password, which would be stored in plain text in .cec/.git/config', {
      hint: 'Give the URL without it and let git\'s credential helper keep the login (`git config --global credential.helper store`, or your platform\'s manager).',
    })
  }
  await git.remoteAdd(name, url, USER_REMOTE_POLICY)
  return { name, url: redactSecrets(url) }
}

export async function removeRemote (env: EnvPaths, name: string): Promise<void> {
  const git = openGit(env.cec)
  await requireRemote(env, git, name)
  await git.remoteRemove(name)
}

/** The URL of `name`, or REMOTE_NOT_FOUND naming the command that adds one. */
export async function requireRemote (env: EnvPaths, git: Git, name: string): Promise<string> {
  const remotes = await git.remotes()
  const found = remotes.find(r => r.name === name)
  if (!found) {
    throw new ComfydockError('REMOTE_NOT_FOUND', `environment "${env.name}" has no remote "${name}"${remotes.length ? ` (it has: ${remotes.map(r => r.name).join(', ')})` : ''}`, {
      hint: `Add one: \`comfydock${env.name ? ` -e ${env.name}` : ''} remote add ${name} <git-url>\`.`,
    })
  }
  return found.url
}
