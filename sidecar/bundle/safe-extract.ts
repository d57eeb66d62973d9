/**
 * @module Extracts an untrusted .tar.gz into an empty folder without ever writing outside it.
 * tar@7 only parses; every write is ours, so the rules are explicit: regular files and folders
 * only, relative paths without `..`, no hard links, devices or FIFOs, symbolic links only when they
 * stay inside (created last, then checked again with realpath), and caps on entry count, on each
 * file's size and on the unpacked total, checked from the headers before any data is written and
 * again on the bytes as they stream (gzip bombs). Entries are written one at a time, in archive
 * order, so a file and a folder of the same name fail the same way every time.
 */
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, open as openFile, realpath, stat, symlink } from 'node:fs/promises'
import { dirname, isAbsolute, posix, relative, sep } from 'node:path'
import { Transform } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { Parser, type ReadEntry } from 'tar'
import { ComfydockError } from '../errors'
import { isInside, safeJoin } from '../fs'
import type { OnProgress } from '../protocol'
import { startTask } from '../progress'
import { bundleCorrupt } from './format'

export interface ExtractLimits {
  /** Sum of the unpacked sizes of all entries. */
  maxTotalBytes: number
  /** Unpacked size of any one file. */
  maxFileBytes: number
  maxEntries: number
}

/**
 * What a bundle may hold: manifests, locks, workflows and development nodes' sources, never models
 * (those are downloaded by hash). Generous for that, small enough that a bomb cannot fill a disk.
 */
export const DEFAULT_EXTRACT_LIMITS: ExtractLimits = {
  maxTotalBytes: 1024 ** 3,
  maxFileBytes: 256 * 1024 ** 2,
  maxEntries: 100_000,
}

export interface ExtractOptions {
  limits?: Partial<ExtractLimits>
  onProgress?: OnProgress
  signal?: AbortSignal
}

export interface ExtractResult {
  files: number
  bytes: number
  /** Symbolic links created: archive path and where it really leads (resolved on disk), both relative to the target folder. */
  links: Array<{ path: string, target: string }>
}

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile'])
const GZIP_MAGIC = [0x1f, 0x8b]

function formatLimit (bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GB` : `${(bytes / 1024 ** 2).toFixed(1)} MB`
}

function tooLarge (path: string, limits: ExtractLimits): ComfydockError {
  return bundleCorrupt(`entry "${path}" is larger than the ${formatLimit(limits.maxFileBytes)} a file in a bundle may have (bundles never hold models)`)
}

/** Refuses absolute paths, drive letters, NUL bytes and any `..` segment; returns the cleaned relative path. */
function checkEntryPath (raw: string): string {
  const path = raw.replace(/\\/g, '/')
  if (path.includes('\0') || path.startsWith('/') || /^[A-Za-z]:/.test(path) || isAbsolute(path)) {
    throw bundleCorrupt(`entry "${raw}" has an absolute path`)
  }
  if (path.split('/').includes('..')) throw bundleCorrupt(`entry "${raw}" points outside the bundle (contains "..")`)
  return path.replace(/^(\.\/)+/, '').replace(/\/+$/, '')
}

async function assertGzip (file: string): Promise<number> {
  let size: number
  try {
    const s = await stat(file)
    if (!s.isFile()) throw new Error('not a regular file')
    size = s.size
  } catch (err) {
    throw new ComfydockError('FILE_NOT_FOUND', `cannot read bundle ${file}: ${(err as Error).message}`, {
      hint: 'Check the path, e.g. `comfydock import ./my-env_export_2025-01-15.tar.gz`.',
    })
  }
  const fh = await openFile(file, 'r')
  const head = Buffer.alloc(2)
  try {
    await fh.read(head, 0, 2, 0)
  } finally {
    await fh.close()
  }
  if (head[0] !== GZIP_MAGIC[0] || head[1] !== GZIP_MAGIC[1]) throw bundleCorrupt(`${file} is not a gzip file`)
  return size
}

/**
 * Extracts `file` into `dest` (an empty folder the caller owns and removes). Throws BUNDLE_CORRUPT
 * on the first unsafe or damaged entry; whatever was written so far stays inside `dest`.
 */
export async function extractSafely (file: string, dest: string, opts: ExtractOptions = {}): Promise<ExtractResult> {
  const limits = { ...DEFAULT_EXTRACT_LIMITS, ...opts.limits }
  const compressedSize = await assertGzip(file)
  const task = startTask(opts.onProgress, 'extract bundle', { total: compressedSize, unit: 'bytes' })
  let failure: unknown
  let entries = 0
  let files = 0
  let declaredBytes = 0
  let writtenBytes = 0
  /** Entries are written one after another: each waits for the one before (the parser waits on backpressure). */
  let queue: Promise<void> = Promise.resolve()
  /** The file being written; closed early when the archive fails mid-entry (no more data will come). */
  let current: { destroy: () => void } | undefined
  const links: Array<{ path: string, target: string, raw: string }> = []

  const parser = new Parser({ strict: true })
  const source = createReadStream(file)
  const gunzip = createGunzip()
  const fail = (err: unknown): void => {
    failure ??= err
    source.destroy()
    gunzip.destroy()
    current?.destroy()
  }
  /** Every failure is a user error naming the entry, never a raw errno with a stack. */
  const entryFailed = (path: string, err: unknown): ComfydockError => err instanceof ComfydockError ? err
    : bundleCorrupt(`cannot write entry "${path}": ${describeFsError(err)}`, err)

  const writeFile = (entry: ReadEntry, target: string, mode: number): Promise<void> => new Promise<void>((resolve, reject) => {
    // 'wx': a duplicate entry or a path through an existing file fails instead of overwriting
    const out = createWriteStream(target, { flags: 'wx', mode })
    current = out
    let size = 0
    const cut = (err: unknown): void => { entry.resume(); out.destroy(); reject(err) }
    // The header's size is what tar reads, so this only trips on a lying parser; never write past a cap.
    const meter = new Transform({
      transform (chunk: Buffer, _enc, cb) {
        size += chunk.length
        writtenBytes += chunk.length
        if (size > limits.maxFileBytes) cb(tooLarge(entry.path, limits))
        else if (writtenBytes > limits.maxTotalBytes) cb(bundleCorrupt(`it unpacks to more than ${formatLimit(limits.maxTotalBytes)}`))
        else cb(null, chunk)
      },
    })
    meter.on('error', cut)
    out.on('error', cut)
    out.on('close', () => { if (current === out) current = undefined; resolve() })
    entry.pipe(meter).pipe(out)
  })

  const handle = async (entry: ReadEntry): Promise<void> => {
    if (failure) { entry.resume(); return }
    const rel = checkEntryPath(entry.path)
    const type = String(entry.type)
    if (rel === '') { entry.resume(); return }
    const target = safeJoin(dest, rel, 'bundle entry')
    if (type === 'Directory') {
      entry.resume()
      await mkdir(target, { recursive: true })
      return
    }
    if (type === 'SymbolicLink') {
      const linkpath = String(entry.linkpath ?? '')
      const resolved = posix.normalize(posix.join(posix.dirname(rel), linkpath.replace(/\\/g, '/')))
      if (linkpath.startsWith('/') || isAbsolute(linkpath) || resolved === '..' || resolved.startsWith('../')) {
        throw bundleCorrupt(`link "${entry.path}" points outside the bundle (to "${linkpath}")`)
      }
      links.push({ path: target, target: linkpath, raw: rel })
      entry.resume()
      return
    }
    files++
    const mode = (entry.mode ?? 0o644) & 0o111 ? 0o755 : 0o644
    await mkdir(dirname(target), { recursive: true })
    if (failure) { entry.resume(); return }
    await writeFile(entry, target, mode)
  }

  parser.on('entry', (entry: ReadEntry) => {
    try {
      entries++
      if (entries > limits.maxEntries) throw bundleCorrupt(`it has more than ${limits.maxEntries} entries`)
      checkEntryPath(entry.path)
      const type = String(entry.type)
      if (type === 'Link') throw bundleCorrupt(`entry "${entry.path}" is a hard link, which bundles never contain`)
      if (type === 'CharacterDevice' || type === 'BlockDevice' || type === 'FIFO') {
        throw bundleCorrupt(`entry "${entry.path}" is a device file or FIFO (${type})`)
      }
      if (type !== 'Directory' && type !== 'SymbolicLink' && !FILE_TYPES.has(type)) throw bundleCorrupt(`entry "${entry.path}" has unsupported type ${type}`)
      if (FILE_TYPES.has(type)) {
        // Checked from the header, before any of the entry's data is read.
        if ((entry.size ?? 0) > limits.maxFileBytes) throw tooLarge(entry.path, limits)
        declaredBytes += entry.size ?? 0
        if (declaredBytes > limits.maxTotalBytes) {
          throw bundleCorrupt(`it unpacks to more than ${formatLimit(limits.maxTotalBytes)} (entry "${entry.path}")`)
        }
      }
    } catch (err) {
      entry.resume()
      fail(err)
      return
    }
    queue = queue.then(() => handle(entry)).catch(err => { entry.resume(); fail(entryFailed(entry.path, err)) })
  })
  parser.on('error', (err: Error) => fail(bundleCorrupt(`not a valid tar archive (${err.message.replace(/^TAR_\w+:\s*/, '')})`, err)))

  const ended = new Promise<void>(resolve => { parser.on('end', () => resolve()); parser.on('abort', () => resolve()) })
  let read = 0
  source.on('data', (c: Buffer | string) => { read += c.length; task.advance(read) })
  let unpacked = 0
  try {
    if (opts.signal?.aborted) throw new ComfydockError('CANCELLED', 'import was cancelled')
    for await (const chunk of source.pipe(gunzip) as AsyncIterable<Buffer>) {
      if (opts.signal?.aborted) throw new ComfydockError('CANCELLED', 'import was cancelled')
      unpacked += chunk.length
      // tar overhead is small: far more raw bytes than declared file bytes means padding or garbage
      if (unpacked > limits.maxTotalBytes + 1024 * 1024 + (entries + 2) * 1024) {
        throw bundleCorrupt(`it decompresses to more than ${formatLimit(limits.maxTotalBytes)}`)
      }
      if (!parser.write(chunk)) await new Promise(resolve => parser.once('drain', resolve))
      if (failure) break
    }
    if (!failure) {
      parser.end()
      await ended
    }
  } catch (err) {
    if (!failure) {
      const code = (err as NodeJS.ErrnoException).code
      failure = err instanceof ComfydockError ? err
        : bundleCorrupt(code === 'Z_BUF_ERROR' ? 'the file is truncated' : `gzip data is damaged (${(err as Error).message})`, err)
    }
  }
  if (failure) current?.destroy()
  await queue
  let resolvedLinks: ExtractResult['links'] = []
  if (!failure && entries === 0) failure = bundleCorrupt('the archive is empty')
  if (!failure) {
    try {
      resolvedLinks = await createLinks(dest, links)
    } catch (err) {
      failure = err
    }
  }
  if (failure) {
    task.end('failed', (failure as Error).message)
    throw failure
  }
  task.end('ok')
  return { files, bytes: declaredBytes, links: resolvedLinks }
}

/** "not a folder" rather than "ENOTDIR: not a directory, mkdir '/tmp/…'". */
function describeFsError (err: unknown): string {
  const known: Record<string, string> = {
    ENOTDIR: 'a file of the bundle is in the way (an entry lies under a file)',
    EEXIST: 'another entry of the bundle is already there (the same name twice, or a file where a folder must be)',
    EISDIR: 'a folder of the bundle is in the way',
    ENOSPC: 'the disk is full',
    ENAMETOOLONG: 'the name is too long',
  }
  const code = (err as NodeJS.ErrnoException)?.code
  return (code && known[code]) ?? (err as Error)?.message ?? String(err)
}

/**
 * Links come last, so no file is ever written through one. Each is checked with realpath right
 * after it is made, so every existing link resolves inside before the next one is created through
 * it; a link that resolves to nothing is refused too (it could be completed later to reach out).
 * Returns where each link really leads (relative to `dest`): later links cannot change that, as a
 * link is never created over a path that already resolves.
 */
async function createLinks (dest: string, links: Array<{ path: string, target: string, raw: string }>): Promise<ExtractResult['links']> {
  const root = await realpath(dest)
  const out: ExtractResult['links'] = []
  for (const link of links) {
    try {
      await mkdir(dirname(link.path), { recursive: true })
      await symlink(link.target, link.path)
    } catch (err) {
      throw bundleCorrupt(`cannot create link "${link.raw}": ${describeFsError(err)}`, err)
    }
    const real = await realpath(link.path).catch(() => null)
    if (real === null) throw bundleCorrupt(`link "${link.raw}" points to nothing inside the bundle (to "${link.target}")`)
    if (!isInside(root, real)) throw bundleCorrupt(`link "${link.raw}" points outside the bundle (through other links)`)
    out.push({ path: link.raw, target: relative(root, real).split(sep).join('/') })
  }
  return out
}
