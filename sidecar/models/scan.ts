/**
 * @module Incremental index sync. Walks every tracked models directory, hashes only files that are
 * new or whose size or mtime changed (short hash, bounded concurrency), and records moves, renames,
 * deletions and changes. Results are committed in batches so a killed scan keeps its progress.
 */
import { readdir, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { ComfydockError } from '../errors'
import { isDirectory } from '../fs'
import { note, startTask } from '../progress'
import type { OnProgress } from '../protocol'
import type { Workspace } from '../workspace'
import { isModelFile } from './model-files'
import { ModelIndex } from './model-index'
import { SAMPLE_SIZE, shortHashWithSize } from './short-hash'
import { ShortHashPool } from './short-hash-pool'

export interface ScanOptions {
  onProgress?: OnProgress
  signal?: AbortSignal
  /** Files hashed at once (default 4; with worker threads, twice their number). */
  concurrency?: number
  /** Hash on worker threads when this many files need hashing (default 16; 0 never). */
  workersFrom?: number
}

export interface ScanChange {
  baseDir: string
  relPath: string
  hash: string
  /** For a move: where the file was before. */
  from?: string
}

export interface ScanResult {
  dirs: Array<{ path: string, files: number, missing?: boolean }>
  scanned: number
  hashed: number
  unchanged: number
  added: ScanChange[]
  changed: ScanChange[]
  moved: ScanChange[]
  removed: Array<{ baseDir: string, relPath: string, hash: string }>
  models: number
}

interface FoundFile { relPath: string, size: number, mtime: number }

/** Every directory the index covers: the workspace's models dir first, then tracked extra ones. */
export function trackedDirs (ws: Workspace, index: ModelIndex): string[] {
  return [...new Set([resolve(ws.modelsDir), ...index.listDirs()])]
}

export async function syncIndex (ws: Workspace, opts: ScanOptions = {}): Promise<ScanResult> {
  const index = ModelIndex.open(ws)
  try {
    return await syncIndexWith(index, trackedDirs(ws, index), opts)
  } finally {
    index.close()
  }
}

export async function syncIndexWith (index: ModelIndex, dirs: string[], opts: ScanOptions = {}): Promise<ScanResult> {
  const result: ScanResult = { dirs: [], scanned: 0, hashed: 0, unchanged: 0, added: [], changed: [], moved: [], removed: [], models: 0 }
  const task = startTask(opts.onProgress, 'scan models', { unit: 'items' })
  try {
    for (const dir of dirs) {
      if (!(await isDirectory(dir))) {
        // An unmounted drive must not wipe what the index knows about it.
        result.dirs.push({ path: dir, files: 0, missing: true })
        note(opts.onProgress, 'warn', `models directory ${dir} is missing; its entries are kept`)
        continue
      }
      const files = await walk(dir, opts.signal)
      result.dirs.push({ path: dir, files: files.length })
      await syncDir(index, dir, files, result, opts, task)
    }
    pairMoves(result)
    result.models = index.counts().models
    task.end('ok')
    return result
  } catch (err) {
    task.end('failed')
    throw err
  }
}

async function syncDir (index: ModelIndex, dir: string, files: FoundFile[], result: ScanResult, opts: ScanOptions, task: ReturnType<typeof startTask>): Promise<void> {
  const known = index.locationsIn(dir)
  const todo: FoundFile[] = []
  for (const f of files) {
    const row = known.get(f.relPath)
    if (row && row.size === f.size && row.mtime === f.mtime) result.unchanged++
    else todo.push(f)
  }
  result.scanned += files.length
  const present = new Set(files.map(f => f.relPath))
  index.db.transaction(() => {
    for (const [relPath, row] of known) {
      if (present.has(relPath)) continue
      index.removeLocation(dir, relPath)
      result.removed.push({ baseDir: dir, relPath, hash: row.model_hash })
    }
  })()
  task.setTotal(result.scanned)
  task.advance(result.scanned - todo.length)

  let batch: Array<{ f: FoundFile, hash: string, size: number }> = []
  const commit = (): void => {
    const items = batch
    batch = []
    index.db.transaction(() => {
      for (const { f, hash, size } of items) {
        const before = known.get(f.relPath)
        index.upsertModel(hash, size)
        index.upsertLocation(hash, dir, f.relPath, size, f.mtime)
        const change = { baseDir: dir, relPath: f.relPath, hash }
        if (!before) result.added.push(change)
        else if (before.model_hash !== hash) result.changed.push(change)
        else result.unchanged++
      }
    })()
  }
  let next = 0
  let done = result.scanned - todo.length
  let lastCommit = Date.now()
  const from = opts.workersFrom ?? 16
  const pool = from > 0 && todo.length >= from ? new ShortHashPool() : undefined
  const worker = async (): Promise<void> => {
    const buffer = pool ? undefined : Buffer.allocUnsafe(SAMPLE_SIZE)
    while (next < todo.length) {
      if (opts.signal?.aborted) throw new ComfydockError('CANCELLED', 'model scan cancelled')
      const f = todo[next++]
      let hashed
      try {
        const file = join(dir, f.relPath)
        hashed = await (pool ? pool.hash(file) : shortHashWithSize(file, buffer))
      } catch (err) {
        // Vanished between listing and hashing: the next sync sees it gone.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue
        throw err
      }
      result.hashed++
      batch.push({ f, hash: hashed.hash, size: hashed.size })
      task.advance(++done)
      if (batch.length >= 256 || Date.now() - lastCommit > 1000) { commit(); lastCommit = Date.now() }
    }
  }
  try {
    const lanes = pool ? Math.max(opts.concurrency ?? 4, pool.size * 2) : opts.concurrency ?? 4
    await Promise.all(Array.from({ length: Math.min(lanes, Math.max(todo.length, 1)) }, worker))
  } finally {
    commit()
    await pool?.close()
  }
}

/** An added path whose content just disappeared from another path is a move (or rename). */
function pairMoves (result: ScanResult): void {
  const gone = new Map<string, Array<{ baseDir: string, relPath: string }>>()
  for (const r of result.removed) {
    const list = gone.get(r.hash) ?? []
    list.push(r)
    gone.set(r.hash, list)
  }
  const stillAdded: ScanChange[] = []
  for (const a of result.added) {
    const from = gone.get(a.hash)?.shift()
    if (from) result.moved.push({ ...a, from: from.relPath })
    else stillAdded.push(a)
  }
  const movedFrom = new Set(result.moved.map(m => `${m.hash}\0${m.from}`))
  result.added = stillAdded
  result.removed = result.removed.filter(r => !movedFrom.has(`${r.hash}\0${r.relPath}`))
}

async function walk (root: string, signal?: AbortSignal): Promise<FoundFile[]> {
  const out: FoundFile[] = []
  const stack = ['']
  while (stack.length > 0) {
    if (signal?.aborted) throw new ComfydockError('CANCELLED', 'model scan cancelled')
    const rel = stack.pop()!
    let entries
    try {
      entries = await readdir(join(root, rel), { withFileTypes: true })
    } catch {
      continue
    }
    const candidates: string[] = []
    for (const e of entries) {
      if (e.name.startsWith('.')) continue
      const childRel = rel ? `${rel}/${e.name}` : e.name
      if (e.isDirectory()) stack.push(childRel)
      else if (e.isFile()) candidates.push(childRel)
    }
    for (let i = 0; i < candidates.length; i += 64) {
      const part = candidates.slice(i, i + 64)
      const stats = await Promise.all(part.map(p => stat(join(root, p)).catch(() => undefined)))
      part.forEach((p, j) => {
        const s = stats[j]
        if (s && isModelFile(p, s.size)) out.push({ relPath: p, size: s.size, mtime: s.mtimeMs })
      })
    }
  }
  return out.sort((a, b) => a.relPath < b.relPath ? -1 : 1)
}
