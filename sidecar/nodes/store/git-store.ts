/**
 * @module Bare mirrors of git packs, one per repository URL (`git/<sha256(url)[:16]>.git`). Refs resolve
 * to full commits against the mirror; an install clones the mirror locally and checks out the pinned
 * commit, so a pack already mirrored installs again without the network (its first-level submodules
 * are mirrored the same way).
 */
import { createHash } from 'node:crypto'
import { mkdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { ComfydockError, redactSecrets } from '../../errors'
import { pathExists } from '../../fs'
import { GitError, assertCommitId, assertRemoteUrl, cloneRepo, openGit, type RemoteUrlPolicy } from '../../git'

/** Our own mirrors and clones are local paths we made: git may read them whatever the pack's policy. */
const OWN_CACHE: RemoteUrlPolicy = { allowLocal: true }

export interface ResolvedGitRef {
  commit: string
  /** True when the remote was unreachable and the mirror's last known refs were used. */
  offline: boolean
}

/**
 * `policy` says which pack URLs may be local paths: only those the user configured or typed
 * (Workspace.localSourcePolicy), never one a manifest or bundle brought in.
 */
export function createGitStore (root: string, policy: RemoteUrlPolicy = { allowLocal: false }) {
  const mirrorOf = (url: string) => join(root, 'git', `${createHash('sha256').update(url).digest('hex').slice(0, 16)}.git`)

  /** Creates or refreshes the mirror. Returns false when the remote could not be reached but a mirror exists. */
  async function sync (url: string): Promise<boolean> {
    assertRemoteUrl(url, policy, 'pack repository')
    const mirror = mirrorOf(url)
    if (await pathExists(mirror)) {
      try {
        await openGit(mirror).fetch('origin', ['+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*'], { policy, prune: true, tags: true, force: true })
        return true
      } catch (err) {
        if (err instanceof GitError) return false
        throw err
      }
    }
    await mkdir(join(root, 'git'), { recursive: true })
    const tmp = `${mirror}.tmp-${process.pid}`
    await rm(tmp, { recursive: true, force: true })
    try {
      await cloneRepo(url, tmp, { mirror: true, policy })
    } catch (err) {
      await rm(tmp, { recursive: true, force: true })
      if (!(err instanceof GitError)) throw err
      throw new ComfydockError('NODE_NOT_FOUND', `cannot clone ${redactSecrets(url)}: ${redactSecrets(err.stderr.trim().split('\n').pop() ?? '')}`, {
        hint: 'Check the URL and that the repository is reachable (`git ls-remote <url>`).',
      })
    }
    try {
      await rename(tmp, mirror)
    } catch (err) {
      // Another process mirrored the same repository meanwhile: theirs is as good as ours.
      await rm(tmp, { recursive: true, force: true })
      if (!(await pathExists(mirror))) throw err
    }
    return true
  }

  async function revParse (mirror: string, ref: string): Promise<string | undefined> {
    return (await openGit(mirror).revParse(ref)) ?? undefined
  }

  /** True when the mirror of `url` has `commit`, fetching it first if needed; false when it cannot be had. */
  async function mirrorHas (url: string, commit: string): Promise<boolean> {
    const mirror = mirrorOf(url)
    if (await pathExists(mirror) && await revParse(mirror, commit)) return true
    try { await sync(url) } catch { return false }
    return (await revParse(mirror, commit)) !== undefined
  }

  /**
   * The pack's submodules at the commits it pins. Run after origin points at the real remote, so
   * relative submodule URLs resolve against it. Every submodule URL passes the pack's policy first (a
   * pack must not pull in a local repository). First-level submodules come through mirrors like packs
   * (a later install needs no network), by pointing each one's URL at its mirror for the clone and back
   * afterwards; nested ones are fetched from their remotes, local paths refused.
   */
  async function checkoutSubmodules (url: string, dest: string): Promise<void> {
    const repo = openGit(dest)
    await repo.submoduleInit()
    const viaMirror: Array<{ name: string, path: string, url: string }> = []
    for (const { key, value: subUrl } of await repo.configGetAll('^submodule\\..*\\.url$')) {
      const name = /^submodule\.(.+)\.url$/.exec(key)?.[1]
      if (!name) continue
      assertRemoteUrl(subUrl, policy, `submodule URL of ${redactSecrets(url)}`)
      const path = await repo.configGet(`submodule.${name}.path`, { file: join(dest, '.gitmodules') }) ?? ''
      const pinned = path ? await repo.gitlink(path) : undefined
      if (!pinned || !(await mirrorHas(subUrl, pinned))) continue // git fetches it itself below, or says why not
      await repo.configSet(`submodule.${name}.url`, mirrorOf(subUrl))
      viaMirror.push({ name, path, url: subUrl })
    }
    let failure: GitError | undefined
    try {
      // every URL was checked above; mirrors are local paths of ours
      await repo.submoduleUpdate({ policy: OWN_CACHE })
    } catch (err) {
      if (!(err instanceof GitError)) throw err
      failure = err
    }
    for (const sub of viaMirror) {
      await repo.configSet(`submodule.${sub.name}.url`, sub.url)
      if (!failure) await openGit(join(dest, sub.path)).remoteSetUrl('origin', sub.url)
    }
    if (!failure) {
      try {
        await repo.submoduleUpdate({ policy: { allowLocal: false }, recursive: true })
      } catch (err) {
        if (!(err instanceof GitError)) throw err
        failure = err
      }
    }
    if (failure) {
      throw new ComfydockError('NODE_INSTALL_FAILED', `cannot fetch the submodules of ${redactSecrets(url)}: ${redactSecrets(failure.stderr.trim().split('\n').pop() ?? '')}`, {
        hint: 'The pack needs its submodules to run. Check that their repositories are reachable (see its .gitmodules), then run the command again.',
      })
    }
  }

  return {
    mirrorOf,
    /** The full commit `ref` (default: the remote's HEAD) points at now. A full sha already mirrored needs no network. */
    async resolve (url: string, ref?: string): Promise<ResolvedGitRef> {
      assertRemoteUrl(url, policy, 'pack repository')
      const mirror = mirrorOf(url)
      if (ref && /^[0-9a-f]{40}$/i.test(ref) && await pathExists(mirror) && await revParse(mirror, ref)) return { commit: ref.toLowerCase(), offline: false }
      const online = await sync(url)
      const commit = await revParse(mirror, ref ?? 'HEAD') ?? (ref ? await revParse(mirror, `refs/tags/${ref}`) : undefined)
      if (!commit) {
        throw new ComfydockError('REF_NOT_FOUND', `${redactSecrets(url)} has no branch, tag or commit "${ref ?? 'HEAD'}"`, {
          hint: `List refs with \`git ls-remote ${redactSecrets(url)}\`, then \`comfydock node add ${redactSecrets(url)}@<ref>\`.`,
        })
      }
      return { commit, offline: !online }
    },
    /** Clones the pinned commit into `dest` (which must not exist) and checks HEAD is that commit. */
    async checkout (url: string, commit: string, dest: string): Promise<void> {
      assertCommitId(commit, 'pinned commit')
      assertRemoteUrl(url, policy, 'pack repository')
      const mirror = mirrorOf(url)
      if (!(await pathExists(mirror)) || !(await revParse(mirror, commit))) await sync(url)
      if (!(await revParse(mirror, commit))) {
        throw new ComfydockError('REF_NOT_FOUND', `commit ${commit} is not in ${redactSecrets(url)}`, { hint: 'The commit may have been force-pushed away. Run `comfydock node update <id>` to pin a current commit.' })
      }
      await cloneRepo(mirror, dest, { noCheckout: true, policy: OWN_CACHE })
      const repo = openGit(dest)
      await repo.checkoutDetached(commit)
      await repo.remoteSetUrl('origin', url)
      const head = await repo.head()
      if (head !== commit) throw new ComfydockError('NODE_INSTALL_FAILED', `checked out ${head} instead of the pinned ${commit}`)
      if (await pathExists(join(dest, '.gitmodules'))) await checkoutSubmodules(url, dest)
    },
  }
}

export type GitStore = ReturnType<typeof createGitStore>
