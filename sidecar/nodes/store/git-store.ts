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
import { run } from '../../exec'
import { pathExists } from '../../fs'

async function git (args: string[], opts: { cwd?: string, allowFailure?: boolean } = {}) {
  // The environment as it is now (not at module load), so git config given by variables applies.
  return run('git', args, { cwd: opts.cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' }, allowFailure: opts.allowFailure })
}

export interface ResolvedGitRef {
  commit: string
  /** True when the remote was unreachable and the mirror's last known refs were used. */
  offline: boolean
}

export function createGitStore (root: string) {
  const mirrorOf = (url: string) => join(root, 'git', `${createHash('sha256').update(url).digest('hex').slice(0, 16)}.git`)

  /** Creates or refreshes the mirror. Returns false when the remote could not be reached but a mirror exists. */
  async function sync (url: string): Promise<boolean> {
    const mirror = mirrorOf(url)
    if (await pathExists(mirror)) {
      const res = await git(['-C', mirror, 'fetch', '--prune', '--tags', '--force', 'origin', '+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*'], { allowFailure: true })
      return res.code === 0
    }
    await mkdir(join(root, 'git'), { recursive: true })
    const tmp = `${mirror}.tmp-${process.pid}`
    await rm(tmp, { recursive: true, force: true })
    const res = await git(['clone', '--mirror', '--quiet', url, tmp], { allowFailure: true })
    if (res.code !== 0) {
      await rm(tmp, { recursive: true, force: true })
      throw new ComfydockError('NODE_NOT_FOUND', `cannot clone ${redactSecrets(url)}: ${res.stderr.trim().split('\n').pop() ?? ''}`, {
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
    const res = await git(['-C', mirror, 'rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { allowFailure: true })
    return res.code === 0 ? res.stdout.trim() : undefined
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
   * relative submodule URLs resolve against it. First-level submodules come through mirrors like
   * packs (a later install needs no network), by pointing each one's URL at its mirror for the
   * clone and back afterwards; nested ones are fetched from their remotes.
   */
  async function checkoutSubmodules (url: string, dest: string): Promise<void> {
    await git(['-C', dest, 'submodule', '--quiet', 'init'])
    const urls = await git(['-C', dest, 'config', '--get-regexp', '^submodule\\..*\\.url$'], { allowFailure: true })
    const viaMirror: Array<{ name: string, path: string, url: string }> = []
    for (const line of urls.stdout.split('\n').filter(Boolean)) {
      const m = /^submodule\.(.+)\.url (.+)$/.exec(line)
      if (!m) continue
      const [, name, subUrl] = m
      const path = (await git(['-C', dest, 'config', '-f', '.gitmodules', '--get', `submodule.${name}.path`], { allowFailure: true })).stdout.trim()
      const pinned = path ? (await git(['-C', dest, 'rev-parse', '--verify', '--quiet', `HEAD:${path}`], { allowFailure: true })).stdout.trim() : ''
      if (!pinned || !(await mirrorHas(subUrl, pinned))) continue // git fetches it itself below, or says why not
      await git(['-C', dest, 'config', `submodule.${name}.url`, mirrorOf(subUrl)])
      viaMirror.push({ name, path, url: subUrl })
    }
    // Mirrors are local paths; git refuses the file transport for submodules unless allowed.
    const first = await git(['-c', 'protocol.file.allow=always', '-C', dest, 'submodule', 'update', '--quiet'], { allowFailure: true })
    for (const sub of viaMirror) {
      await git(['-C', dest, 'config', `submodule.${sub.name}.url`, sub.url])
      if (first.code === 0) await git(['-C', join(dest, sub.path), 'remote', 'set-url', 'origin', sub.url])
    }
    const res = first.code === 0 ? await git(['-C', dest, 'submodule', 'update', '--init', '--recursive', '--quiet'], { allowFailure: true }) : first
    if (res.code !== 0) {
      throw new ComfydockError('NODE_INSTALL_FAILED', `cannot fetch the submodules of ${redactSecrets(url)}: ${res.stderr.trim().split('\n').pop() ?? ''}`, {
        hint: 'The pack needs its submodules to run. Check that their repositories are reachable (see its .gitmodules), then run the command again.',
      })
    }
  }

  return {
    mirrorOf,
    /** The full commit `ref` (default: the remote's HEAD) points at now. A full sha already mirrored needs no network. */
    async resolve (url: string, ref?: string): Promise<ResolvedGitRef> {
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
      const mirror = mirrorOf(url)
      if (!(await pathExists(mirror)) || !(await revParse(mirror, commit))) await sync(url)
      if (!(await revParse(mirror, commit))) {
        throw new ComfydockError('REF_NOT_FOUND', `commit ${commit} is not in ${redactSecrets(url)}`, { hint: 'The commit may have been force-pushed away. Run `comfydock node update <id>` to pin a current commit.' })
      }
      await git(['clone', '--quiet', '--no-checkout', mirror, dest])
      await git(['-C', dest, 'checkout', '--quiet', '--detach', commit])
      await git(['-C', dest, 'remote', 'set-url', 'origin', url])
      const head = (await git(['-C', dest, 'rev-parse', 'HEAD'])).stdout.trim()
      if (head !== commit) throw new ComfydockError('NODE_INSTALL_FAILED', `checked out ${head} instead of the pinned ${commit}`)
      if (await pathExists(join(dest, '.gitmodules'))) await checkoutSubmodules(url, dest)
    },
  }
}

export type GitStore = ReturnType<typeof createGitStore>
