/**
 * @module Extracts a zip into a folder and nowhere else: entries with `..`, absolute paths, drive letters
 * or NUL bytes, and symlinks pointing outside the target, are refused (ARCHIVE_UNSAFE) before anything
 * is written. In-tree symlinks are recreated as links.
 */
import { createWriteStream } from 'node:fs'
import { mkdir, realpath, symlink } from 'node:fs/promises'
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path'
import { pipeline } from 'node:stream/promises'
import type yauzl from 'yauzl'
import { ComfydockError } from '../../errors'
import { isInside } from '../../fs'
import { lazyRequire } from '../../lazy-require'

const zipReader = lazyRequire<typeof yauzl>('yauzl')

interface PlannedEntry {
  entry: yauzl.Entry
  target: string
  kind: 'dir' | 'file' | 'symlink'
}

function unsafe (archive: string, what: string): ComfydockError {
  return new ComfydockError('ARCHIVE_UNSAFE', `refusing to extract ${archive}: ${what}`, {
    hint: 'The archive tries to write outside its folder. Do not install it; report it to the pack author.',
  })
}

function entryName (entry: yauzl.Entry): string {
  const raw = entry.fileName as unknown as Buffer | string
  return (typeof raw === 'string' ? raw : raw.toString('utf8')).replace(/\\/g, '/')
}

function isSymlink (entry: yauzl.Entry): boolean {
  return ((entry.externalFileAttributes >>> 16) & 0o170000) === 0o120000
}

function readAll (zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Buffer> {
  return new Promise((res, rej) => zip.openReadStream(entry, (err, stream) => {
    if (err || !stream) return rej(err)
    const chunks: Buffer[] = []
    stream.on('data', (c: Buffer) => chunks.push(c)).on('end', () => res(Buffer.concat(chunks))).on('error', rej)
  }))
}

function openZip (file: string): Promise<yauzl.ZipFile> {
  return new Promise((res, rej) => zipReader().open(file, { lazyEntries: true, decodeStrings: false, autoClose: false }, (err, zip) => err || !zip ? rej(err) : res(zip)))
}

async function listEntries (zip: yauzl.ZipFile): Promise<yauzl.Entry[]> {
  return new Promise((res, rej) => {
    const out: yauzl.Entry[] = []
    zip.on('entry', (e: yauzl.Entry) => { out.push(e); zip.readEntry() })
    zip.on('end', () => res(out))
    zip.on('error', rej)
    zip.readEntry()
  })
}

/**
 * An archive checked entry by entry against its target folder (names, and where its symlinks point)
 * before anything is written: a top-level file can be read from it before it is extracted. Extract it,
 * or close it, exactly once.
 */
export interface CheckedZip {
  /** The archive holds symlinks (whose targets are checked again as they are made). */
  hasLinks: boolean
  /** Each entry's path inside the target folder ('/'-separated, `./` resolved); folders end with '/'. */
  paths: string[]
  /** The entry at index `i` of `paths`, read from the archive. */
  read (i: number): Promise<Buffer>
  /**
   * Extracts into the target folder (created; it should be new and empty). Returns every entry name in
   * archive order (folders too, as Python's `ZipFile.namelist()` gives them): what ComfyUI-Manager
   * records in a registry pack's `.tracking`.
   */
  extract (): Promise<string[]>
  close (): void
}

/** Opens `file` and checks every entry's path against the folder `dest` (ARCHIVE_UNSAFE), writing nothing. */
export async function openCheckedZip (file: string, dest: string): Promise<CheckedZip> {
  let zip: yauzl.ZipFile
  try {
    zip = await openZip(file)
  } catch (err) {
    throw new ComfydockError('NODE_INSTALL_FAILED', `${file} is not a readable zip: ${(err as Error).message}`, { cause: err })
  }
  try {
    const root = resolve(dest)
    const plan: PlannedEntry[] = []
    for (const entry of await listEntries(zip)) {
      const name = entryName(entry)
      if (name.includes('\0') || isAbsolute(name) || name.startsWith('/') || /^[A-Za-z]:/.test(name)) throw unsafe(file, `entry "${name}" has an absolute path`)
      const target = resolve(root, name)
      if (!isInside(root, target) || name.split('/').includes('..')) throw unsafe(file, `entry "${name}" points outside the target folder`)
      if (isSymlink(entry)) {
        const link = (await readAll(zip, entry)).toString('utf8')
        if (isAbsolute(link) || !isInside(root, resolve(dirname(target), link))) throw unsafe(file, `symlink "${name}" -> "${link}" points outside the target folder`)
        plan.push({ entry, target, kind: 'symlink' })
      } else {
        plan.push({ entry, target, kind: name.endsWith('/') ? 'dir' : 'file' })
      }
    }
    let used = false
    return {
      hasLinks: plan.some(p => p.kind === 'symlink'),
      paths: plan.map(p => relative(root, p.target).split(sep).join('/') + (p.kind === 'dir' ? '/' : '')),
      read: i => readAll(zip, plan[i].entry),
      extract: async () => {
        if (used) throw new Error('a checked zip is extracted once')
        used = true
        try {
          await extractPlan(file, zip, plan, root)
          return plan.map(p => entryName(p.entry))
        } finally {
          zip.close()
        }
      },
      close: () => zip.close(),
    }
  } catch (err) {
    zip.close()
    throw err
  }
}

async function extractPlan (file: string, zip: yauzl.ZipFile, plan: PlannedEntry[], root: string): Promise<void> {
  await mkdir(root, { recursive: true })
  const realRoot = await realpath(root)
  for (const p of plan) {
    if (p.kind === 'dir') {
      await mkdir(p.target, { recursive: true })
      continue
    }
    await mkdir(dirname(p.target), { recursive: true })
    // Links made by earlier entries can redirect a lexically safe path: check where it really lands.
    const realParent = await realpath(dirname(p.target))
    if (!isInside(realRoot, realParent)) throw unsafe(file, `entry "${entryName(p.entry)}" is reached through a link that leaves the target folder`)
    if (p.kind === 'symlink') {
      const link = (await readAll(zip, p.entry)).toString('utf8')
      if (!isInside(realRoot, resolve(realParent, link))) throw unsafe(file, `symlink "${entryName(p.entry)}" -> "${link}" points outside the target folder`)
      await symlink(link, p.target)
    } else {
      const mode = (p.entry.externalFileAttributes >>> 16) & 0o777
      const stream = await new Promise<NodeJS.ReadableStream>((res, rej) => zip.openReadStream(p.entry, (err, s) => err || !s ? rej(err) : res(s)))
      await pipeline(stream, createWriteStream(p.target, { mode: mode & 0o100 ? 0o755 : 0o644 }))
    }
  }
}

/**
 * Returns every entry name in archive order (folders too, as Python's `ZipFile.namelist()` gives them):
 * what ComfyUI-Manager records in a registry pack's `.tracking`. `dest` is created; it should be new and empty.
 */
export async function safeExtractZip (file: string, dest: string): Promise<string[]> {
  return (await openCheckedZip(file, dest)).extract()
}
