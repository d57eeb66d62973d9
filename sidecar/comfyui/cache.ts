/**
 * @module The ComfyUI clone cache: one checked-out tree per resolved commit under `cache/comfyui-v1/<sha>/`,
 * plus `refs.json` remembering which tag or branch named which commit per source, so a second environment
 * of the same version needs no access to the source.
 */
import { cp, mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import { ComfydockError } from '../errors'
import { isDirectory, writeJsonAtomic } from '../fs'
import { GitError, assertCommitId, assertRefName, openGit, type RemoteUrlPolicy } from '../git'
import type { Workspace } from '../workspace'
import { refNotFound, sourceUnavailable, sourceUrl } from './source'

export type ComfyuiVersionType = 'release' | 'branch' | 'commit'

export interface ResolvedComfyui {
  /** Tag, branch name or commit, as recorded in the manifest. */
  version: string
  type: ComfyuiVersionType
  commit: string
}

const refsFileSchema = z.object({
  version: z.literal(1),
  sources: z.record(z.object({ tags: z.record(z.string()), branches: z.record(z.string()) })).default({}),
})
type RefsFile = z.infer<typeof refsFileSchema>

/** refs.json, or an empty file when it is missing or unreadable (it is a cache: the source can answer again). */
async function readRefsFile (ws: Workspace): Promise<RefsFile> {
  try {
    const parsed = refsFileSchema.safeParse(JSON.parse(await readFile(refsFile(ws), 'utf8')))
    if (parsed.success) return parsed.data
  } catch { /* first entry, or a broken cache file */ }
  return { version: 1, sources: {} }
}

function refsFile (ws: Workspace): string { return join(ws.cache.comfyui, 'refs.json') }

export function cachedTreeDir (ws: Workspace, commit: string): string {
  return join(ws.cache.comfyui, commit)
}

export async function readCachedRefs (ws: Workspace, source: string): Promise<{ tags: Record<string, string>, branches: Record<string, string> }> {
  const file = await readRefsFile(ws)
  return Object.hasOwn(file.sources, source) ? file.sources[source] : { tags: {}, branches: {} }
}

async function rememberRef (ws: Workspace, source: string, resolved: ResolvedComfyui): Promise<void> {
  if (resolved.type === 'commit') return
  const file = await readRefsFile(ws)
  const entry = Object.hasOwn(file.sources, source) ? file.sources[source] : (file.sources[source] = { tags: {}, branches: {} })
  entry[resolved.type === 'release' ? 'tags' : 'branches'][resolved.version] = resolved.commit
  await writeJsonAtomic(refsFile(ws), file)
}

export async function isCached (ws: Workspace, commit: string): Promise<boolean> {
  return isDirectory(join(cachedTreeDir(ws, commit), '.git'))
}

/** The ComfyUI source is the user's own setting (config or command line), so a local path or file:// URL is allowed. */
const USER_SOURCE: RemoteUrlPolicy = { allowLocal: true }

/** The last lines of git's complaint, for a one-line error. */
const why = (err: unknown): string => err instanceof GitError ? err.stderr.trim().split('\n').slice(-2).join(' ') : (err as Error).message

async function fetchInto (dir: string, source: string, resolved: ResolvedComfyui, signal?: AbortSignal): Promise<void> {
  const url = sourceUrl(source)
  const repo = openGit(dir)
  await repo.init()
  const opts = { policy: USER_SOURCE, signal }
  const short = resolved.type === 'commit' && resolved.commit.length < 40
  if (short) {
    // An abbreviated commit can only be found in the full history.
    try {
      await repo.fetch(url, ['+refs/heads/*:refs/remotes/origin/*', '+refs/tags/*:refs/tags/*'], opts)
    } catch (err) {
      if (!(err instanceof GitError)) throw err
      throw sourceUnavailable(source, why(err))
    }
    const found = await repo.revParse(resolved.commit)
    if (!found) throw refNotFound(source, resolved.commit)
    await repo.checkoutDetached(found)
    return
  }
  // A shallow fetch of exactly the commit; a full fetch as a fallback for servers that refuse it.
  const want = resolved.type === 'commit' ? resolved.commit : `refs/${resolved.type === 'release' ? 'tags' : 'heads'}/${resolved.version}`
  try {
    try {
      await repo.fetch(url, [want], { ...opts, depth: 1 })
    } catch (err) {
      if (!(err instanceof GitError)) throw err
      await repo.fetch(url, [want], opts)
    }
  } catch (err) {
    if (!(err instanceof GitError)) throw err
    if (resolved.type === 'commit' && /not our ref|couldn't find remote ref|no such remote ref|unadvertised object|not a valid object/i.test(err.stderr)) throw refNotFound(source, resolved.commit)
    throw sourceUnavailable(source, why(err))
  }
  try {
    await repo.checkoutDetached('FETCH_HEAD')
  } catch (err) {
    throw new ComfydockError('COMFYUI_SOURCE_UNAVAILABLE', `could not check out ComfyUI ${resolved.version}: ${why(err)}`)
  }
  if (resolved.type === 'release') await repo.tag(resolved.version)
}

/** What reaches git is a commit id or a ref name, never an option (a manifest names them). */
function checkResolved (resolved: ResolvedComfyui): void {
  assertCommitId(resolved.commit, 'ComfyUI commit')
  if (resolved.type !== 'commit') assertRefName(resolved.version, 'ComfyUI version')
}

/**
 * Makes sure the cache holds the tree of `resolved.commit` (which may be abbreviated); clones it from the
 * source when it does not. Returns the full commit.
 */
export async function ensureCached (ws: Workspace, source: string, resolved: ResolvedComfyui, opts: { signal?: AbortSignal } = {}): Promise<{ dir: string, commit: string, cloned: boolean }> {
  checkResolved(resolved)
  if (resolved.commit.length === 40 && await isCached(ws, resolved.commit)) {
    await rememberRef(ws, source, resolved)
    return { dir: cachedTreeDir(ws, resolved.commit), commit: resolved.commit, cloned: false }
  }
  await mkdir(ws.cache.comfyui, { recursive: true })
  const tmp = await mkdtemp(join(ws.cache.comfyui, '.clone-'))
  let commit: string
  let cloned = false
  try {
    await fetchInto(tmp, source, resolved, opts.signal)
    commit = await openGit(tmp).head() ?? ''
    if (!commit.startsWith(resolved.commit)) {
      throw new ComfydockError('COMFYUI_SOURCE_UNAVAILABLE', `ComfyUI ${resolved.version} moved while cloning (expected ${resolved.commit.slice(0, 12)}, got ${commit.slice(0, 12)})`, { hint: 'Run the command again.' })
    }
    if (!(await isCached(ws, commit))) {
      try {
        await rename(tmp, cachedTreeDir(ws, commit))
        cloned = true
      } catch (err) {
        // another create cached the same commit meanwhile; theirs is as good as ours
        if (!(await isCached(ws, commit))) throw err
      }
    }
  } finally {
    await rm(tmp, { recursive: true, force: true })
  }
  await rememberRef(ws, source, { ...resolved, commit })
  return { dir: cachedTreeDir(ws, commit), commit, cloned }
}

/** Copies a cached tree (with its .git) to `target`, which must not exist yet. */
export async function copyCachedTree (ws: Workspace, commit: string, target: string): Promise<void> {
  await cp(cachedTreeDir(ws, commit), target, { recursive: true, verbatimSymlinks: true, errorOnExist: true, force: false })
}
