/**
 * @module Incremental index sync. Walks every tracked models directory, hashes only files that are
 * new or whose size or mtime changed (short hash, bounded concurrency), and records moves, renames,
 * deletions and changes. Results are committed in batches so a killed scan keeps its progress.
 */
import { join, resolve } from 'node:path'
import { ComfydockError } from '../errors'
import { isDirectory } from '../fs'
import { note, startTask, type Task } from '../progress'
import type { OnProgress } from '../protocol'
import type { Workspace } from '../workspace'
import { ModelIndex, type LocationRecord } from './model-index'
import { SAMPLE_SIZE, sampleRanges, shortHashWithSize } from './short-hash'
import { ShortHashPool } from './short-hash-pool'
import { walkModels, type FoundFile } from './walk-models'

export interface ScanOptions {
  onProgress?: OnProgress
  signal?: AbortSignal
  /** Files hashed at once on this thread (default 4); with worker threads, batches in flight (default two per worker). */
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
  const pools = new Pools()
  try {
    for (const dir of dirs) {
      if (!(await isDirectory(dir))) {
        // An unmounted drive must not wipe what the index knows about it.
        result.dirs.push({ path: dir, files: 0, missing: true })
        note(opts.onProgress, 'warn', `models directory ${dir} is missing; its entries are kept`)
        continue
      }
      const known = index.locationsIn(dir)
      // Workers boot (tens of ms) while the walk goes on, once enough files are seen to need them.
      const from = opts.workersFrom ?? 16
      let toHash = 0
      const files = await walkModels(dir, opts.signal, (f) => {
        if (from > 0 && !isUnchanged(known.get(f.relPath), f) && ++toHash === from) pools.get()
      })
      result.dirs.push({ path: dir, files: files.length })
      await syncDir(index, dir, known, files, result, opts, task, pools)
    }
    pairMoves(result)
    result.models = index.counts().models
    task.end('ok')
    return result
  } catch (err) {
    task.end('failed')
    throw err
  } finally {
    await pools.close()
  }
}

/** Same size and mtime as indexed: trusted without hashing. */
function isUnchanged (row: LocationRecord | undefined, f: FoundFile): boolean {
  return row !== undefined && row.size === f.size && row.mtime === f.mtime
}

async function syncDir (index: ModelIndex, dir: string, known: Map<string, LocationRecord>, files: FoundFile[], result: ScanResult, opts: ScanOptions, task: Task, pools: Pools): Promise<void> {
  const todo: FoundFile[] = []
  for (const f of files) {
    if (isUnchanged(known.get(f.relPath), f)) result.unchanged++
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
  let done = result.scanned - todo.length
  task.advance(done)

  // Hashes arrive in batches; they are written in one transaction per batch (or per second),
  // so a killed scan keeps what it hashed and SQLite sees a few big transactions, not one per file.
  let batch: Hashed[] = []
  let lastCommit = Date.now()
  const commit = (): void => {
    const items = batch
    batch = []
    lastCommit = Date.now()
    if (items.length === 0) return
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
  const onHashed = (h: Hashed): void => {
    result.hashed++
    batch.push(h)
    task.advance(++done)
    if (batch.length >= 1024 || Date.now() - lastCommit > 1000) commit()
  }
  const from = opts.workersFrom ?? 16
  try {
    if (from > 0 && todo.length >= from) await hashOnWorkers(dir, todo, pools.get(), opts, onHashed)
    else await hashHere(dir, todo, opts, onHashed)
  } finally {
    commit()
  }
}

interface Hashed { f: FoundFile, hash: string, size: number }

/** Worker pool made on first need and shared by every directory of one sync. */
class Pools {
  private pool?: ShortHashPool
  get (): ShortHashPool { return (this.pool ??= new ShortHashPool()) }
  async close (): Promise<void> { await this.pool?.close() }
}

function checkCancel (signal?: AbortSignal): void {
  if (signal?.aborted) throw new ComfydockError('CANCELLED', 'model scan cancelled')
}

/** A file that vanished between listing and hashing is skipped: the next sync sees it gone. */
function vanished (err: { code?: string }): boolean {
  return err.code === 'ENOENT'
}

/** Bytes a short hash reads from a file of `size`. */
function sampleBytes (size: number): number {
  return sampleRanges(size).reduce((n, [, length]) => n + Math.min(length, size), 0)
}

/**
 * Files go out in batches of about BATCH_BYTES of samples (at most BATCH_FILES files), two batches
 * per worker in flight so a worker never waits for the main thread between batches.
 */
const BATCH_BYTES = 16 * 1024 * 1024
const BATCH_FILES = 64

async function hashOnWorkers (dir: string, todo: FoundFile[], pool: ShortHashPool, opts: ScanOptions, onHashed: (h: Hashed) => void): Promise<void> {
  let next = 0
  const lanes = Math.max(opts.concurrency ?? 0, pool.size * 2)
  await runLanes(Math.min(lanes, todo.length), async () => {
    if (next >= todo.length) return false
    checkCancel(opts.signal)
    const part: FoundFile[] = []
    let bytes = 0
    while (next < todo.length && part.length < BATCH_FILES && bytes < BATCH_BYTES) {
      const f = todo[next++]
      part.push(f)
      bytes += sampleBytes(f.size)
    }
    const results = await pool.hashBatch(part.map(f => join(dir, f.relPath)), bytes)
    results.forEach((r, i) => {
      if (r.hash !== undefined) onHashed({ f: part[i], hash: r.hash, size: r.size! })
      else if (!vanished(r)) throw Object.assign(new Error(r.message ?? 'short hash failed'), { code: r.code })
    })
    return true
  })
}

async function hashHere (dir: string, todo: FoundFile[], opts: ScanOptions, onHashed: (h: Hashed) => void): Promise<void> {
  let next = 0
  const buffers: Buffer[] = []
  await runLanes(Math.min(opts.concurrency ?? 4, todo.length), async () => {
    if (next >= todo.length) return false
    checkCancel(opts.signal)
    const f = todo[next++]
    const buffer = buffers.pop() ?? Buffer.allocUnsafe(SAMPLE_SIZE)
    try {
      onHashed({ f, ...await shortHashWithSize(join(dir, f.relPath), buffer) })
    } catch (err) {
      if (!vanished(err as NodeJS.ErrnoException)) throw err
    } finally {
      buffers.push(buffer)
    }
    return true
  })
}

/**
 * Runs `count` lanes, each repeating `step` until it returns false. The first failure stops every
 * lane from taking more work and is thrown once all have stopped: no hashing outlives the scan, and
 * what the in-flight steps hashed is still recorded.
 */
async function runLanes (count: number, step: () => Promise<boolean>): Promise<void> {
  let failure: { err: unknown } | undefined
  const lane = async (): Promise<void> => {
    try {
      while (!failure && await step()) { /* next step */ }
    } catch (err) {
      failure ??= { err }
    }
  }
  await Promise.all(Array.from({ length: count }, lane))
  if (failure) throw failure.err
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
