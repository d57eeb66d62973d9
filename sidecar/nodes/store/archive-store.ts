/**
 * @module Content-addressed store of registry zips: `archives/<sha256>.zip`, plus `urls/<sha256(url)>`
 * naming the archive a download URL gave. Installing the same pack version again, in any environment,
 * reads the store; an archive whose sha256 differs from the pinned one is refused.
 */
import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { ComfydockError, redactSecrets } from '../../errors'
import { pathExists, writeFileAtomic } from '../../fs'
import { startTask } from '../../progress'
import type { OnProgress } from '../../protocol'

export interface StoredArchive {
  file: string
  sha256: string
  /** False when it had to be downloaded. */
  cached: boolean
}

export interface FetchArchiveOptions {
  onProgress?: OnProgress
  signal?: AbortSignal
  fetch?: typeof globalThis.fetch
  label?: string
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex')

async function fileSha256 (file: string): Promise<string> {
  const h = createHash('sha256')
  await pipeline(createReadStream(file), h)
  return h.digest('hex')
}

function mismatch (label: string, expected: string, actual: string): ComfydockError {
  return new ComfydockError('NODE_HASH_MISMATCH', `${label}: archive sha256 is ${actual}, but pyproject.toml pins ${expected}`, {
    hint: 'The published archive changed. Run `comfydock node update <id>` to pin the new one if you trust it.',
  })
}

export function createArchiveStore (root: string) {
  const archiveFile = (digest: string) => join(root, 'archives', `${digest}.zip`)
  const urlFile = (url: string) => join(root, 'urls', sha(url))

  async function fromCache (url: string, expected?: string): Promise<StoredArchive | undefined> {
    let digest = expected
    if (!digest && await pathExists(urlFile(url))) digest = (await readFile(urlFile(url), 'utf8')).trim()
    if (!digest || !(await pathExists(archiveFile(digest)))) return undefined
    const actual = await fileSha256(archiveFile(digest))
    if (actual !== digest) {
      await rm(archiveFile(digest), { force: true }) // a damaged cache entry is re-downloaded, never trusted
      return undefined
    }
    return { file: archiveFile(digest), sha256: digest, cached: true }
  }

  return {
    /** The archive for `url`: from the store, else downloaded, hashed and stored. */
    async fetch (url: string, expected: string | undefined, opts: FetchArchiveOptions = {}): Promise<StoredArchive> {
      const label = opts.label ?? url
      const hit = await fromCache(url, expected)
      if (hit) return hit
      await mkdir(join(root, 'archives'), { recursive: true })
      const tmp = join(root, 'archives', `.download-${process.pid}-${Date.now()}.tmp`)
      const task = startTask(opts.onProgress, `download ${label}`, { unit: 'bytes' })
      try {
        let res: Response
        try {
          res = await (opts.fetch ?? globalThis.fetch)(url, { signal: opts.signal })
        } catch (err) {
          throw new ComfydockError('NODE_INSTALL_FAILED', `cannot download ${redactSecrets(url)}: ${(err as Error).message}`, { hint: 'Check the network; installs of cached versions work offline.', cause: err })
        }
        if (!res.ok || !res.body) throw new ComfydockError('NODE_INSTALL_FAILED', `downloading ${redactSecrets(url)} failed: HTTP ${res.status}`)
        const total = Number(res.headers.get('content-length')) || undefined
        if (total) task.setTotal(total)
        const hash = createHash('sha256')
        let done = 0
        const meter = new Transform({
          transform (chunk: Buffer, _enc, cb) { hash.update(chunk); done += chunk.length; task.advance(done); cb(null, chunk) },
        })
        await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), meter, createWriteStream(tmp))
        const digest = hash.digest('hex')
        if (expected && digest !== expected) throw mismatch(label, expected, digest)
        await rename(tmp, archiveFile(digest))
        await writeFileAtomic(urlFile(url), digest + '\n')
        task.end('ok')
        return { file: archiveFile(digest), sha256: digest, cached: false }
      } catch (err) {
        task.end('failed', (err as Error).message)
        throw err
      } finally {
        await rm(tmp, { force: true })
      }
    },
  }
}

export type ArchiveStore = ReturnType<typeof createArchiveStore>
