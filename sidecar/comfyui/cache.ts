/**
 * @module The ComfyUI clone cache: one checked-out tree per resolved commit under `cache/comfyui-v1/<sha>/`,
 * plus `refs.json` remembering which tag or branch named which commit per source, so a second environment
 * of the same version needs no access to the source.
 */
import { cp, mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { ComfydockError } from '../errors'
import { run } from '../exec'
import { isDirectory, writeJsonAtomic } from '../fs'
import type { Workspace } from '../workspace'
import { refNotFound, sourceUnavailable, sourceUrl } from './source'

export type ComfyuiVersionType = 'release' | 'branch' | 'commit'

export interface ResolvedComfyui {
  /** Tag, branch name or commit, as recorded in the manifest. */
  version: string
  type: ComfyuiVersionType
  commit: string
}

interface RefsFile {
  version: 1
  sources: Record<string, { tags: Record<string, string>, branches: Record<string, string> }>
}

function refsFile (ws: Workspace): string { return join(ws.cache.comfyui, 'refs.json') }

export function cachedTreeDir (ws: Workspace, commit: string): string {
  return join(ws.cache.comfyui, commit)
}

export async function readCachedRefs (ws: Workspace, source: string): Promise<{ tags: Record<string, string>, branches: Record<string, string> }> {
  try {
    const file = JSON.parse(await readFile(refsFile(ws), 'utf8')) as RefsFile
    return file.sources?.[source] ?? { tags: {}, branches: {} }
  } catch {
    return { tags: {}, branches: {} }
  }
}

async function rememberRef (ws: Workspace, source: string, resolved: ResolvedComfyui): Promise<void> {
  if (resolved.type === 'commit') return
  let file: RefsFile = { version: 1, sources: {} }
  try { file = JSON.parse(await readFile(refsFile(ws), 'utf8')) as RefsFile } catch { /* first entry */ }
  file.sources ??= {}
  const entry = file.sources[source] ??= { tags: {}, branches: {} }
  entry[resolved.type === 'release' ? 'tags' : 'branches'][resolved.version] = resolved.commit
  await writeJsonAtomic(refsFile(ws), file)
}

export async function isCached (ws: Workspace, commit: string): Promise<boolean> {
  return isDirectory(join(cachedTreeDir(ws, commit), '.git'))
}

const gitEnv = (): NodeJS.ProcessEnv => ({ ...process.env, GIT_TERMINAL_PROMPT: '0' })

async function fetchInto (dir: string, source: string, resolved: ResolvedComfyui, signal?: AbortSignal): Promise<void> {
  const url = sourceUrl(source)
  const git = (args: string[]) => run('git', ['-C', dir, ...args], { env: gitEnv(), signal, allowFailure: true })
  await run('git', ['init', '-q', dir], { env: gitEnv() })
  const short = resolved.type === 'commit' && resolved.commit.length < 40
  if (short) {
    // An abbreviated commit can only be found in the full history.
    const res = await git(['fetch', '-q', url, '+refs/heads/*:refs/remotes/origin/*', '+refs/tags/*:refs/tags/*'])
    if (res.code !== 0) throw sourceUnavailable(source, res.stderr.trim().split('\n').slice(-2).join(' '))
    const found = await git(['rev-parse', '--verify', '--quiet', `${resolved.commit}^{commit}`])
    if (found.code !== 0) throw refNotFound(source, resolved.commit)
    await git(['checkout', '-q', '--detach', found.stdout.trim()])
    return
  }
  // A shallow fetch of exactly the commit; a full fetch as a fallback for servers that refuse it.
  const want = resolved.type === 'commit' ? resolved.commit : `refs/${resolved.type === 'release' ? 'tags' : 'heads'}/${resolved.version}`
  let res = await git(['fetch', '-q', '--depth', '1', url, want])
  if (res.code !== 0) res = await git(['fetch', '-q', url, want])
  if (res.code !== 0) {
    if (resolved.type === 'commit' && /not our ref|couldn't find remote ref|no such remote ref|unadvertised object|not a valid object/i.test(res.stderr)) throw refNotFound(source, resolved.commit)
    throw sourceUnavailable(source, res.stderr.trim().split('\n').slice(-2).join(' '))
  }
  const checkout = await git(['checkout', '-q', '--detach', 'FETCH_HEAD'])
  if (checkout.code !== 0) throw new ComfydockError('COMFYUI_SOURCE_UNAVAILABLE', `could not check out ComfyUI ${resolved.version}: ${checkout.stderr.trim()}`)
  if (resolved.type === 'release') await git(['tag', resolved.version, 'HEAD'])
}

/**
 * Makes sure the cache holds the tree of `resolved.commit` (which may be abbreviated); clones it from the
 * source when it does not. Returns the full commit.
 */
export async function ensureCached (ws: Workspace, source: string, resolved: ResolvedComfyui, opts: { signal?: AbortSignal } = {}): Promise<{ dir: string, commit: string, cloned: boolean }> {
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
    commit = (await run('git', ['-C', tmp, 'rev-parse', 'HEAD'])).stdout.trim()
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
