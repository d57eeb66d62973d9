/**
 * @module Extracts an untrusted .tar.gz into an empty folder without ever writing outside it.
 * tar@7 only parses; every write is ours, so the rules are explicit: regular files and folders
 * only, relative paths without `..`, no hard links, devices or FIFOs, symbolic links only when they
 * stay inside (created last, then checked again with realpath), and caps on entry count and
 * unpacked size that are checked from the headers before any data is written (gzip bombs).
 */
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, open as openFile, realpath, stat, symlink } from 'node:fs/promises'
import { dirname, isAbsolute, posix } from 'node:path'
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
  maxEntries: number
}

export const DEFAULT_EXTRACT_LIMITS: ExtractLimits = {
  maxTotalBytes: 8 * 1024 ** 3,
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
  /** Symbolic links created: archive path and where it points, both relative to the target folder. */
  links: Array<{ path: string, target: string }>
}

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile'])
const GZIP_MAGIC = [0x1f, 0x8b]

function formatLimit (bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GB` : `${(bytes / 1024 ** 2).toFixed(1)} MB`
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
  const writes: Promise<void>[] = []
  /** Files being written; closed early when the archive fails mid-entry (no more data will come). */
  const open = new Set<NodeJS.WritableStream & { destroy: () => void }>()
  const links: Array<{ path: string, target: string, raw: string, resolved: string }> = []

  const parser = new Parser({ strict: true })
  const source = createReadStream(file)
  const gunzip = createGunzip()
  const fail = (err: unknown): void => {
    failure ??= err
    source.destroy()
    gunzip.destroy()
  }

  parser.on('entry', (entry: ReadEntry) => {
    try {
      entries++
      if (entries > limits.maxEntries) throw bundleCorrupt(`it has more than ${limits.maxEntries} entries`)
      const rel = checkEntryPath(entry.path)
      const type = String(entry.type)
      if (type === 'Link') throw bundleCorrupt(`entry "${entry.path}" is a hard link, which bundles never contain`)
      if (type === 'CharacterDevice' || type === 'BlockDevice' || type === 'FIFO') {
        throw bundleCorrupt(`entry "${entry.path}" is a device file or FIFO (${type})`)
      }
      if (rel === '') { entry.resume(); return }
      const target = safeJoin(dest, rel, 'bundle entry')
      if (type === 'Directory') {
        writes.push(mkdir(target, { recursive: true }).then(() => undefined))
        entry.resume()
        return
      }
      if (type === 'SymbolicLink') {
        const linkpath = String(entry.linkpath ?? '')
        const resolved = posix.normalize(posix.join(posix.dirname(rel), linkpath.replace(/\\/g, '/')))
        if (linkpath.startsWith('/') || isAbsolute(linkpath) || resolved === '..' || resolved.startsWith('../')) {
          throw bundleCorrupt(`link "${entry.path}" points outside the bundle (to "${linkpath}")`)
        }
        links.push({ path: target, target: linkpath, raw: rel, resolved })
        entry.resume()
        return
      }
      if (!FILE_TYPES.has(type)) throw bundleCorrupt(`entry "${entry.path}" has unsupported type ${type}`)
      declaredBytes += entry.size ?? 0
      if (declaredBytes > limits.maxTotalBytes) {
        throw bundleCorrupt(`it unpacks to more than ${formatLimit(limits.maxTotalBytes)} (entry "${entry.path}")`)
      }
      files++
      const mode = (entry.mode ?? 0o644) & 0o111 ? 0o755 : 0o644
      writes.push(mkdir(dirname(target), { recursive: true }).then(() => new Promise<void>((resolve, reject) => {
        // 'wx': a duplicate entry or a path through an existing file fails instead of overwriting
        const out = createWriteStream(target, { flags: 'wx', mode })
        open.add(out)
        out.on('error', reject)
        out.on('close', () => { open.delete(out); resolve() })
        entry.pipe(out)
      })).catch(err => {
        entry.resume()
        fail(bundleCorrupt(`cannot write entry "${entry.path}": ${(err as Error).message}`, err))
      }))
    } catch (err) {
      entry.resume()
      fail(err)
    }
  })
  parser.on('error', (err: Error) => fail(bundleCorrupt(`not a valid tar archive (${err.message.replace(/^TAR_\w+:\s*/, '')})`, err)))

  const ended = new Promise<void>(resolve => { parser.on('end', () => resolve()); parser.on('abort', () => resolve()) })
  let read = 0
  source.on('data', (c: Buffer | string) => { read += c.length; task.advance(read) })
  let unpacked = 0
  try {
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
  if (failure) for (const out of open) out.destroy()
  await Promise.allSettled(writes)
  if (!failure && entries === 0) failure = bundleCorrupt('the archive is empty')
  if (!failure) {
    try {
      await createLinks(dest, links)
    } catch (err) {
      failure = err
    }
  }
  if (failure) {
    task.end('failed', (failure as Error).message)
    throw failure
  }
  task.end('ok')
  return { files, bytes: declaredBytes, links: links.map(l => ({ path: l.raw, target: l.resolved })) }
}

/**
 * Links come last, so no file is ever written through one. Each is checked with realpath right
 * after it is made, so every existing link resolves inside before the next one is created through
 * it; a link that resolves to nothing is refused too (it could be completed later to reach out).
 */
async function createLinks (dest: string, links: Array<{ path: string, target: string, raw: string }>): Promise<void> {
  const root = await realpath(dest)
  for (const link of links) {
    try {
      await mkdir(dirname(link.path), { recursive: true })
      await symlink(link.target, link.path)
    } catch (err) {
      throw bundleCorrupt(`cannot create link "${link.raw}": ${(err as Error).message}`, err)
    }
    const real = await realpath(link.path).catch(() => null)
    if (real === null) throw bundleCorrupt(`link "${link.raw}" points to nothing inside the bundle (to "${link.target}")`)
    if (!isInside(root, real)) throw bundleCorrupt(`link "${link.raw}" points outside the bundle (through other links)`)
  }
}
