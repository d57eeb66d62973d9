/**
 * @module What the user typed for `node add`: `registry-id[@version]`, a git URL or local repo path
 * `[@ref]`, or (with --dev) a folder in custom_nodes or a path to one.
 */
import { isAbsolute } from 'node:path'
import { ComfydockError } from '../errors'

export type NodeSpec =
  | { kind: 'registry', id: string, version?: string }
  | { kind: 'git', url: string, ref?: string }
  | { kind: 'dev', target: string }

const GIT_URL = /^(https?:\/\/|git:\/\/|ssh:\/\/|file:\/\/|git@[^:]+:)/

/** `url@ref` only when the `@` comes after the last `/` (so `git@host:` and `user@host` stay in the URL). */
function splitRef (text: string): [string, string | undefined] {
  const at = text.lastIndexOf('@')
  if (at <= 0 || at < text.lastIndexOf('/') || at < text.lastIndexOf(':')) return [text, undefined]
  return [text.slice(0, at), text.slice(at + 1) || undefined]
}

export function parseNodeSpec (spec: string, opts: { dev?: boolean } = {}): NodeSpec {
  const s = spec.trim()
  if (opts.dev) return { kind: 'dev', target: s }
  if (GIT_URL.test(s) || isAbsolute(s) || s.startsWith('./') || s.startsWith('../')) {
    const [url, ref] = splitRef(s)
    return { kind: 'git', url: url.replace(/\/+$/, ''), ref }
  }
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]{0,99})(?:@([A-Za-z0-9][A-Za-z0-9.+_-]*))?$/.exec(s)
  if (m) {
    const version = m[2] === 'latest' ? undefined : m[2]?.replace(/^v(?=\d)/, '')
    return { kind: 'registry', id: m[1].toLowerCase(), ...(version ? { version } : {}) }
  }
  throw new ComfydockError('NODE_SPEC_UNSUPPORTED', `"${spec}" is not a registry id, git URL or local repository`, {
    hint: 'Use `comfydock node add <registry-id>[@version]`, `comfydock node add https://github.com/<user>/<repo>[@ref]`, or `comfydock node add --dev <folder>`.',
  })
}

/** The folder name a git repository installs as: its last path segment without `.git`. */
export function repoFolderName (url: string): string {
  const last = url.replace(/\/+$/, '').replace(/\.git$/, '').split(/[/:]/).pop() ?? ''
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(last)) {
    throw new ComfydockError('NODE_SPEC_UNSUPPORTED', `cannot derive a folder name from "${url}"`, { hint: 'Use a URL ending in /<repo> or /<repo>.git.' })
  }
  return last
}
