/**
 * @module What `import <source>` was given: a file on this machine, the http(s) URL of a bundle or
 * snapshot (downloaded into the workspace's temp space, then imported like the file), or a git URL
 * (cloned: `comfydock clone`). A path that exists is always a file, whatever it looks like.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { ComfydockError, redactSecrets } from '../errors'
import { pathExists, withTempDir } from '../fs'
import { gitUrlKind } from '../git'
import { downloadFile, filenameFromUrl, safeBaseName } from '../net'
import type { OnProgress } from '../protocol'
import type { Workspace } from '../workspace'

export type ImportSource =
  | { kind: 'file', path: string }
  | { kind: 'download', url: string, filename: string }
  | { kind: 'git', url: string }

const DOWNLOADABLE = /\.(tar\.gz|tgz|json|ya?ml)$/i

export async function classifyImportSource (input: string): Promise<ImportSource> {
  if (await pathExists(input)) return { kind: 'file', path: input }
  let u: URL | undefined
  try { u = /^https?:\/\//i.test(input) ? new URL(input) : undefined } catch { u = undefined }
  if (u && DOWNLOADABLE.test(u.pathname)) {
    const name = filenameFromUrl(input) ?? u.pathname.split('/').pop() ?? 'bundle.tar.gz'
    return { kind: 'download', url: input, filename: safeBaseName(name) ?? 'bundle.tar.gz' }
  }
  const git = gitUrlKind(input)
  if ('kind' in git && git.kind !== 'local' && git.kind !== 'file') return { kind: 'git', url: input }
  if (u) {
    throw new ComfydockError('INVALID_ARGUMENT', `${redactSecrets(input)} is neither a bundle (.tar.gz), a snapshot (.json/.yaml) nor a git repository URL`, {
      hint: 'Give the URL of a .tar.gz bundle, or a git URL of an environment (https://host/team/env.git, git@host:team/env.git).',
    })
  }
  return { kind: 'file', path: input }
}

/** Downloads `url` into a temp folder of the workspace and runs `fn` with the file; the folder goes afterwards. */
export async function withDownloadedSource<T> (ws: Workspace, src: { url: string, filename: string }, fn: (file: string) => Promise<T>, opts: { onProgress?: OnProgress, signal?: AbortSignal } = {}): Promise<T> {
  const tmp = join(ws.paths.cache, 'tmp')
  await mkdir(tmp, { recursive: true })
  return withTempDir('import', async (dir) => {
    const file = join(dir, src.filename)
    await downloadFile(src.url, file, { onProgress: opts.onProgress, signal: opts.signal, label: `download ${src.filename}` })
    return fn(file)
  }, tmp)
}
