/**
 * @module Helpers to emit progress events without threading ids by hand.
 * Core functions take `onProgress` in their options and never print.
 */
import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import type { OnProgress, ProgressEvent } from './protocol'

export interface Task {
  readonly id: string
  /** Report absolute progress. */
  advance (current: number, message?: string): void
  setTotal (total: number): void
  end (outcome?: 'ok' | 'skipped' | 'failed', message?: string): void
  /** A nested task (a file inside "download 3 models"). */
  child (label: string, opts?: TaskOptions): Task
  note (level: 'info' | 'warn', message: string): void
  /** The work is tried again (`retries` so far, 1 on the first); a warning line, counted in the panel. */
  retry (retries: number, reason: string): void
}

export interface TaskOptions {
  total?: number
  unit?: 'bytes' | 'items'
}

const noop: OnProgress = () => {}

/**
 * Numeric progress goes out at most this often per task, or per 1% of a known total. Scans and
 * downloads advance per file or per chunk; unthrottled, that is thousands of NDJSON lines and panel
 * messages for one bar.
 */
export const PROGRESS_INTERVAL_MS = 100

let counter = 0
function nextId (): string {
  counter += 1
  return `${randomUUID().slice(0, 8)}-${counter}`
}

export function startTask (onProgress: OnProgress | undefined, label: string, opts: TaskOptions = {}, parent?: string): Task {
  const emit = onProgress ?? noop
  const id = nextId()
  let total = opts.total
  let ended = false
  let lastSent = -Infinity
  let lastCurrent = 0
  const base = (): Pick<ProgressEvent, 'op' | 'parent' | 'label' | 'unit'> =>
    ({ op: id, ...(parent ? { parent } : {}), label, ...(opts.unit ? { unit: opts.unit } : {}) })
  emit({ ...base(), phase: 'start', ...(total !== undefined ? { total, current: 0 } : {}) })
  return {
    id,
    advance (current, message) {
      // A message (a package pip is fetching), the last step and each 1% of the total always go out;
      // counts in between are sampled by time.
      const now = performance.now()
      const visible = total !== undefined && total > 0 && Math.abs(current - lastCurrent) >= total / 100
      if (message === undefined && current !== total && !visible && now - lastSent < PROGRESS_INTERVAL_MS) return
      lastSent = now
      lastCurrent = current
      emit({ ...base(), phase: 'progress', current, ...(total !== undefined ? { total } : {}), ...(message ? { message } : {}) })
    },
    setTotal (t) { total = t },
    end (outcome = 'ok', message) {
      if (ended) return
      ended = true
      emit({ ...base(), phase: 'end', outcome, ...(total !== undefined ? { total } : {}), ...(message ? { message } : {}) })
    },
    child (childLabel, childOpts) { return startTask(onProgress, childLabel, childOpts, id) },
    note (level, message) { emit({ ...base(), phase: 'note', level, message }) },
    retry (retries, reason) { emit({ ...base(), phase: 'note', level: 'warn', retries, message: `${label}: retry ${retries} (${reason})` }) },
  }
}

/** Runs `fn` inside a task, ending it as failed when `fn` throws. */
export async function withTask<T> (onProgress: OnProgress | undefined, label: string, opts: TaskOptions, fn: (task: Task) => Promise<T>): Promise<T> {
  const task = startTask(onProgress, label, opts)
  try {
    const result = await fn(task)
    task.end('ok')
    return result
  } catch (err) {
    task.end('failed', err instanceof Error ? err.message : String(err))
    throw err
  }
}

/** A standalone warning or info line. */
export function note (onProgress: OnProgress | undefined, level: 'info' | 'warn', message: string): void {
  onProgress?.({ op: nextId(), phase: 'note', label: message, level, message })
}
