/**
 * @module `clone <git-url> [name]`: an environment from a remote, the way `import` makes one from a
 * bundle. The repository is cloned into the workspace's temp space, read and validated like an
 * extracted bundle, and its `.git` becomes the new environment's `.cec/.git`: history and `origin`
 * come along, so `pull` and `push` work at once. Models come from the team's store first.
 */
import { mkdir } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { ComfydockError, redactSecrets } from '../errors'
import type { ImportOptions, ImportResult } from '../bundle'
import { cloneRepo, explainRemoteFailure } from '../git'
import { pathExists, withTempDir } from '../fs'
import { withTask } from '../progress'
import { validateEnvName, type Workspace } from '../workspace'
import { USER_REMOTE_POLICY } from './remotes'

export interface CloneResult extends ImportResult {
  url: string
  /**
   * Development nodes the manifest tracks: their code is a teammate's own and never travels through git
   * (a bundle carries it). Not a failure of the clone; they are copied by hand, or shared as git packs.
   */
  development_missing: string[]
}

/** `https://host/team/portraits.git` → `portraits`; undefined when that is no usable name. */
export function nameFromUrl (url: string): string | undefined {
  const last = basename(url.replace(/[/\\]+$/, '').replace(/^.*:/, m => (m.includes('/') ? m : ''))).replace(/\.git$/, '')
  try { validateEnvName(last); return last } catch { return undefined }
}

export async function cloneEnvironment (ws: Workspace, url: string, name: string | undefined, opts: Omit<ImportOptions, 'name' | 'fromRepository'> = {}): Promise<CloneResult> {
  // temp space on the workspace's disk: the clone's .git is moved, not copied, into the environment
  const tmp = join(ws.paths.cache, 'tmp')
  await mkdir(tmp, { recursive: true })
  return withTempDir('clone', async (dir) => {
    const repo = join(dir, 'repo')
    await withTask(opts.onProgress, `clone ${url}`, {}, async () => {
      try {
        await cloneRepo(url, repo, { policy: USER_REMOTE_POLICY, signal: opts.signal })
      } catch (err) {
        const e = explainRemoteFailure(err, url, 'cloning')
        // `import <url>` lands here for any URL that is not a bundle's: say what it may be
        if (e instanceof ComfydockError && e.code === 'REMOTE_NOT_FOUND') {
          throw new ComfydockError(e.code, e.message, { hint: 'Check the URL: give a git repository of an environment (https://host/team/env.git, git@host:team/env.git), or the URL of a .tar.gz bundle.', cause: err })
        }
        throw e
      }
    })
    if (!(await pathExists(join(repo, 'pyproject.toml'))) && !(await pathExists(join(repo, '.cec', 'pyproject.toml')))) {
      throw new ComfydockError('MANIFEST_INVALID', `${redactSecrets(url)} holds no environment (no pyproject.toml${(await pathExists(join(repo, '.git', 'HEAD'))) ? ' in its newest commit' : ''}); nothing was created`, {
        hint: 'Check the URL; an empty repository gets its environment from a teammate: `comfydock remote add origin <url>` then `comfydock push`.',
      })
    }
    const { importBundle } = await import('../bundle')
    const res = await importBundle(ws, repo, { ...opts, name: name ?? nameFromUrl(url), fromRepository: { gitDir: join(repo, '.git'), url } })
    const dev = new Set(res.preview.nodes.development)
    const failed = res.nodes.failed.filter(f => !dev.has(f.id))
    const missing = res.nodes.failed.filter(f => dev.has(f.id)).map(f => f.id)
    const next = [
      ...(missing.length ? [`Copy the development nodes ${missing.join(', ')} into ${join(ws.env(res.name).customNodes)} (their code is not in the repository)`] : []),
      ...res.next_steps.filter(s => failed.length || !s.startsWith('Retry the packs')),
    ]
    return {
      ...res,
      url,
      nodes: { ...res.nodes, failed, development: res.nodes.development.filter(d => !missing.includes(d)) },
      development_missing: missing,
      ok: failed.length === 0 && res.models.failed.length === 0,
      next_steps: next,
    }
  }, tmp)
}
