/**
 * @module Content-addressed store of registry zips: `archives/<sha256>.zip`, plus `urls/<sha256(url)>`
 * naming the archive a download URL gave. Installing the same pack version again, in any environment,
 * reads the store; an archive whose sha256 differs from the pinned one is refused.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { ComfydockError } from '../../errors'
import { pathExists, writeFileAtomic } from '../../fs'
import { downloadFile } from '../../net'
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
      // The part file is named for the URL, so a dropped download resumes on the next install.
      const partFile = join(root, 'archives', `.${sha(url).slice(0, 24)}.part`)
      const tmp = join(root, 'archives', `.download-${process.pid}-${Date.now()}.tmp`)
      try {
        let got
        try {
          got = await downloadFile(url, tmp, { partFile, expectedSha256: expected, label: `download ${label}`, onProgress: opts.onProgress, signal: opts.signal, errorCode: 'NODE_INSTALL_FAILED', mismatchCode: 'NODE_HASH_MISMATCH' })
        } catch (err) {
          if (err instanceof ComfydockError && err.code === 'NODE_HASH_MISMATCH') throw mismatch(label, expected!, /got ([0-9a-f]{64})/.exec(err.message)?.[1] ?? 'different')
          // Ctrl-C: nothing of this download stays (a dropped connection keeps its part, to resume)
          if (err instanceof ComfydockError && err.code === 'CANCELLED') await Promise.all([rm(partFile, { force: true }), rm(`${partFile}.validator`, { force: true })])
          throw err
        }
        await rename(tmp, archiveFile(got.sha256))
        await writeFileAtomic(urlFile(url), got.sha256 + '\n')
        return { file: archiveFile(got.sha256), sha256: got.sha256, cached: false }
      } finally {
        await rm(tmp, { force: true })
      }
    },
  }
}

export type ArchiveStore = ReturnType<typeof createArchiveStore>
