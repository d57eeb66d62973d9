/**
 * @module Reading a ComfyUI source (git URL, local path or file:// URL): its tags and branches,
 * and which of them is the newest release.
 */
import { isAbsolute, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ComfydockError, redactSecrets } from '../errors'
import { GitError, lsRemote, type RemoteRef } from '../git'

export interface RemoteRefs {
  /** tag -> commit (peeled for annotated tags) */
  tags: Record<string, string>
  /** branch -> commit */
  branches: Record<string, string>
}

const URL_LIKE = /^([a-z][a-z0-9+.-]*:\/\/|[^/\s]+@[^:\s]+:)/i

/** The source as git should see it. Local paths become file:// URLs so shallow clones work. */
export function sourceUrl (source: string): string {
  if (URL_LIKE.test(source)) return source
  return pathToFileURL(isAbsolute(source) ? source : resolve(source)).href
}

export function sourceUnavailable (source: string, detail: string, cause?: unknown): ComfydockError {
  return new ComfydockError('COMFYUI_SOURCE_UNAVAILABLE', `cannot read the ComfyUI source "${redactSecrets(source)}": ${redactSecrets(detail)}`, {
    hint: 'Check the network, or point `comfydock config comfyui_source <git URL | local path | file:// URL>` at a reachable ComfyUI repository.',
    cause,
  })
}

export function refNotFound (source: string, ref: string, known: string[] = []): ComfydockError {
  return new ComfydockError('COMFYUI_REF_NOT_FOUND', `no tag, branch or commit "${ref}" in the ComfyUI source "${redactSecrets(source)}"`, {
    hint: known.length
      ? `Newest releases: ${known.slice(0, 5).join(', ')}. Run \`comfydock create NAME --comfyui ${known[0]}\`.`
      : 'Pass a tag (e.g. v0.3.7), a branch or a commit with `--comfyui`.',
  })
}

export async function listRemoteRefs (source: string, opts: { signal?: AbortSignal } = {}): Promise<RemoteRefs> {
  let listed: RemoteRef[]
  try {
    // the source is the user's own setting, so a local path is fine
    listed = await lsRemote(sourceUrl(source), { heads: true, tags: true, policy: { allowLocal: true }, signal: opts.signal })
  } catch (err) {
    if (!(err instanceof GitError)) throw err
    throw sourceUnavailable(source, err.stderr.trim().split('\n').filter(Boolean).slice(-2).join(' ') || `git ls-remote exited ${err.exitCode}`)
  }
  const refs: RemoteRefs = { tags: {}, branches: {} }
  const peeled: Record<string, string> = {}
  for (const { commit: sha, ref } of listed) {
    if (ref.startsWith('refs/heads/')) refs.branches[ref.slice('refs/heads/'.length)] = sha
    else if (ref.startsWith('refs/tags/') && ref.endsWith('^{}')) peeled[ref.slice('refs/tags/'.length, -3)] = sha
    else if (ref.startsWith('refs/tags/')) refs.tags[ref.slice('refs/tags/'.length)] = sha
  }
  Object.assign(refs.tags, peeled)
  return refs
}

function releaseParts (tag: string): number[] | null {
  const m = /^v(\d+(?:\.\d+)*)$/.exec(tag)
  return m ? m[1].split('.').map(Number) : null
}

/** Release tags (`v1.2.3`), newest first. */
export function releaseTags (tags: Iterable<string>): string[] {
  return [...tags].filter(t => releaseParts(t)).sort((a, b) => {
    const pa = releaseParts(a)!
    const pb = releaseParts(b)!
    for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
      const d = (pb[i] ?? 0) - (pa[i] ?? 0)
      if (d !== 0) return d
    }
    return 0
  })
}
