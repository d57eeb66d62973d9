/**
 * @module Turning what the user asked for (`--comfyui v0.3.7 | master | 9a616b8 | nothing`) into a tag,
 * branch or commit of the configured source. Tags and full commits already in the cache need no network.
 */
import { ComfydockError } from '../errors'
import type { Workspace } from '../workspace'
import { isCached, readCachedRefs, type ResolvedComfyui } from './cache'
import { listRemoteRefs, refNotFound, releaseTags, type RemoteRefs } from './source'

const HEX = /^[0-9a-f]{7,40}$/i

export async function resolveComfyuiRef (ws: Workspace, source: string, ref?: string, opts: { signal?: AbortSignal } = {}): Promise<ResolvedComfyui> {
  const wanted = ref === 'latest' ? undefined : ref?.trim() || undefined
  const cached = await readCachedRefs(ws, source)
  if (wanted) {
    if (cached.tags[wanted]) return { version: wanted, type: 'release', commit: cached.tags[wanted] }
    if (/^[0-9a-f]{40}$/i.test(wanted) && await isCached(ws, wanted.toLowerCase())) return { version: wanted.toLowerCase(), type: 'commit', commit: wanted.toLowerCase() }
  }

  let remote: RemoteRefs
  try {
    remote = await listRemoteRefs(source, opts)
  } catch (err) {
    // Offline: fall back to what earlier creates saw, so cached versions still work.
    if (!wanted) {
      const newest = releaseTags(Object.keys(cached.tags))[0]
      if (newest) return { version: newest, type: 'release', commit: cached.tags[newest] }
    } else if (cached.branches[wanted]) {
      return { version: wanted, type: 'branch', commit: cached.branches[wanted] }
    }
    throw err
  }

  const releases = releaseTags(Object.keys(remote.tags))
  if (!wanted) {
    if (!releases.length) {
      throw new ComfydockError('COMFYUI_REF_NOT_FOUND', `the ComfyUI source "${source}" has no release tags (v*)`, {
        hint: 'Name a branch or commit: `comfydock create NAME --comfyui master`.',
      })
    }
    return { version: releases[0], type: 'release', commit: remote.tags[releases[0]] }
  }
  if (remote.tags[wanted]) return { version: wanted, type: 'release', commit: remote.tags[wanted] }
  if (remote.branches[wanted]) return { version: wanted, type: 'branch', commit: remote.branches[wanted] }
  if (HEX.test(wanted)) return { version: wanted.toLowerCase(), type: 'commit', commit: wanted.toLowerCase() }
  throw refNotFound(source, wanted, releases)
}
