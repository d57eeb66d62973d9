/**
 * @module What may reach a git command line: commit ids (7–64 hex digits), ref names (git's own
 * check-ref-format rules, never starting with "-"), revisions the user typed, and remote URLs by
 * protocol. Manifests and bundles are strangers' text: a value that fails here never reaches git, and
 * the wrapper passes what passes after `--end-of-options` or `--` as well.
 */
import { isAbsolute } from 'node:path'
import { ComfydockError, redactSecrets } from '../errors'

const COMMIT_ID = /^[0-9a-f]{7,64}$/i

export function isCommitId (value: unknown): value is string {
  return typeof value === 'string' && COMMIT_ID.test(value)
}

function invalidRef (what: string, value: string, why: string): ComfydockError {
  return new ComfydockError('INVALID_GIT_REF', `${what} ${JSON.stringify(value)} is not valid: ${why}`, {
    hint: 'A commit id is 7 to 64 hex digits; a branch or tag name follows git\'s rules (`git check-ref-format`) and never starts with "-".',
  })
}

/** A commit id, or INVALID_GIT_REF. */
export function assertCommitId (value: string, what = 'commit id'): string {
  if (!isCommitId(value)) throw invalidRef(what, value, 'a commit id is 7 to 64 hex digits')
  return value
}

/** Why `value` is not a safe branch or tag name (git check-ref-format rules), or undefined. */
export function refNameProblem (value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return 'empty'
  if (value.length > 255) return 'longer than 255 characters'
  if (value.startsWith('-')) return 'starts with "-"'
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f~^:?*[\\]/.test(value)) return 'contains a space, a control character or one of ~ ^ : ? * [ \\'
  if (value.includes('..')) return 'contains ".."'
  if (value.includes('@{') || value === '@') return 'contains "@{" or is "@"'
  if (value.includes('//') || value.startsWith('/') || value.endsWith('/')) return 'has an empty path component'
  if (value.endsWith('.')) return 'ends with "."'
  if (value.split('/').some(part => part.startsWith('.') || part.endsWith('.lock'))) return 'has a component starting with "." or ending with ".lock"'
  return undefined
}

/** A branch or tag name, or INVALID_GIT_REF. */
export function assertRefName (value: string, what = 'ref'): string {
  const why = refNameProblem(value)
  if (why) throw invalidRef(what, value, why)
  return value
}

/**
 * A revision the user typed (`HEAD~2`, `v1.0`, an id): anything git's revision syntax allows except what
 * could be read as an option or break a command line. Passed after `--end-of-options` besides.
 */
export function assertRevision (value: string, what = 'revision'): string {
  // eslint-disable-next-line no-control-regex
  if (!value || value.startsWith('-') || /[\u0000-\u001f\u007f]/.test(value) || value.length > 1024) {
    throw invalidRef(what, value, value.startsWith('-') ? 'starts with "-"' : 'empty, too long or has a control character')
  }
  return value
}

export type GitUrlKind = 'https' | 'http-loopback' | 'ssh' | 'git' | 'file' | 'local'

function isLoopbackUrl (url: string): boolean {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '')
    return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host)
  } catch {
    return false
  }
}

const SCP_LIKE = /^(?:[^@/\s]+@)?[^/:\s]+:(?!\/\/)/

/**
 * What transport `url` uses, or why it is refused. Only https, ssh (URL or `user@host:path`), git and
 * http to this machine are open to anyone; file:// URLs and local paths are reported so the caller can
 * allow them only for a source the user configured. http elsewhere, ext::, fd:: and every other transport
 * are refused.
 */
export function gitUrlKind (url: unknown): { kind: GitUrlKind } | { problem: string } {
  if (typeof url !== 'string' || url === '') return { problem: 'empty' }
  if (url.startsWith('-')) return { problem: 'starts with "-"' }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f]/.test(url)) return { problem: 'contains a space or a control character' }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase()
  if (scheme) {
    if (scheme === 'https') return { kind: 'https' }
    if (scheme === 'ssh' || scheme === 'git+ssh' || scheme === 'ssh+git') return { kind: 'ssh' }
    if (scheme === 'git') return { kind: 'git' }
    if (scheme === 'file') return { kind: 'file' }
    // Plain http never leaves the machine on loopback (a local git server), so nothing can swap the code on the way.
    if (scheme === 'http' && isLoopbackUrl(url)) return { kind: 'http-loopback' }
    return { problem: `the ${scheme}:// protocol is not allowed (only https, ssh and git${scheme === 'http' ? '; http only on this machine' : ''})` }
  }
  if (url.includes('::')) return { problem: 'git remote helpers ("transport::address") are not allowed' }
  if (isAbsolute(url) || url.startsWith('./') || url.startsWith('../')) return { kind: 'local' }
  if (SCP_LIKE.test(url) && !/^[A-Za-z]:[\\/]/.test(url)) return { kind: 'ssh' }
  return { kind: 'local' }
}

export interface RemoteUrlPolicy {
  /**
   * Whether a local path or file:// URL may be used: only for a source the user configured or typed
   * (`comfydock config comfyui_source`, `node add <path>`), never one a manifest or bundle brought in.
   */
  allowLocal: boolean | ((url: string) => boolean)
}

/** `url` when its transport is allowed under `policy`; GIT_URL_NOT_ALLOWED otherwise. */
export function assertRemoteUrl (url: string, policy: RemoteUrlPolicy, what = 'git URL'): string {
  const r = gitUrlKind(url)
  const shown = JSON.stringify(redactSecrets(String(url)))
  if ('problem' in r) {
    throw new ComfydockError('GIT_URL_NOT_ALLOWED', `${what} ${shown} is refused: ${r.problem}`, {
      hint: 'Use an https://, ssh:// (or user@host:path) or git:// URL.',
    })
  }
  if ((r.kind === 'file' || r.kind === 'local') && !(typeof policy.allowLocal === 'function' ? policy.allowLocal(url) : policy.allowLocal)) {
    throw new ComfydockError('GIT_URL_NOT_ALLOWED', `${what} ${shown} is a local path, which only a source you configured may be`, {
      hint: 'If you trust that folder, allow it with `comfydock config trusted_local_sources <folder>` (several separated by the path list separator), then run the command again.',
    })
  }
  return url
}
