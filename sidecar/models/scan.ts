/**
 * @module Incremental index sync. Walks every tracked models directory, hashes only files that are
 * new or whose size or mtime changed (short hash, bounded concurrency), and records moves, renames,
 * deletions and changes. Results are committed in batches so a killed scan keeps its progress.
 */
import { join, resolve } from 'node:path'
import { isDirectory } from '../fs'
import { note, startTask, type Task } from '../progress'
import type { OnProgress } from '../protocol'
import type { Workspace } from '../workspace'
import { ModelIndex, type LocationRecord } from './model-index'
import { FileQueue, hashHere, hashOnWorkers, Pools, type Hashed } from './scan-hashing'
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
      await syncDir(index, dir, result, opts, task, pools)
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

/**
 * One directory: the walk queues files that need hashing as it finds them; hashing starts on worker
 * threads as soon as `workersFrom` files are queued (so it overlaps the walk), else on this thread
 * once the walk is done.
 */
async function syncDir (index: ModelIndex, dir: string, result: ScanResult, opts: ScanOptions, task: Task, pools: Pools): Promise<void> {
  const known = index.locationsIn(dir)
  const queue = new FileQueue()
  const from = opts.workersFrom ?? 16
  let done = result.scanned // earlier directories are done

  // Hashes are written in one transaction per 1,024 files (or per second), so a killed scan keeps
  // what it hashed and SQLite sees a few big transactions, not one per file.
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

  let hashing: Promise<void> | undefined
  try {
    const files = await walkModels(dir, opts.signal, (f) => {
      if (isUnchanged(known.get(f.relPath), f)) { result.unchanged++; done++; return }
      queue.push(f)
      if (!hashing && from > 0 && queue.count === from) {
        hashing = hashOnWorkers(dir, queue, pools.get(), opts, onHashed)
        hashing.catch(() => undefined) // awaited after the walk; a failure meanwhile is not unhandled
      }
    })
    queue.close()
    result.dirs.push({ path: dir, files: files.length })
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
    task.advance(done)
    hashing ??= hashHere(dir, queue, opts, onHashed)
    await hashing
  } catch (err) {
    // Stop the lanes and let them finish their step before the error goes up.
    queue.abandon()
    await hashing?.catch(() => undefined)
    throw err
  } finally {
    commit()
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
