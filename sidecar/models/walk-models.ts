/**
 * @module Lists the model files under a directory with their size and mtime. Synchronous readdir/stat
 * in small slices: a promise per stat cost more than the stat itself (about 4x on 2,000 files), and
 * yielding between slices keeps the sidecar's event loop responsive on big or slow trees.
 */
import { readdirSync, statSync, type Dirent } from 'node:fs'
import { join } from 'node:path'
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import { ComfydockError } from '../errors'
import { isModelFile } from './model-files'

export interface FoundFile { relPath: string, size: number, mtime: number }

/** File system calls between two yields to the event loop. */
const SLICE = 128

/** `onFile` sees each file as it is found (before the sorted list is returned). */
export async function walkModels (root: string, signal?: AbortSignal, onFile?: (f: FoundFile) => void): Promise<FoundFile[]> {
  const out: FoundFile[] = []
  const stack = ['']
  let calls = 0
  const pause = async (): Promise<void> => {
    await yieldToLoop()
    if (signal?.aborted) throw new ComfydockError('CANCELLED', 'model scan cancelled')
  }
  while (stack.length > 0) {
    if (signal?.aborted) throw new ComfydockError('CANCELLED', 'model scan cancelled')
    const rel = stack.pop()!
    let entries: Dirent[]
    try {
      entries = readdirSync(join(root, rel), { withFileTypes: true })
    } catch {
      continue // unreadable or vanished folder: its files are simply not found
    }
    if (++calls % SLICE === 0) await pause()
    for (const e of entries) {
      if (e.name.startsWith('.')) continue
      const childRel = rel ? `${rel}/${e.name}` : e.name
      if (e.isDirectory()) { stack.push(childRel); continue }
      if (!e.isFile()) continue // symlinks and special files are not indexed
      let s
      try {
        s = statSync(join(root, childRel), { throwIfNoEntry: false })
      } catch {
        s = undefined
      }
      if (++calls % SLICE === 0) await pause()
      if (!s || !isModelFile(childRel, s.size)) continue
      const f = { relPath: childRel, size: s.size, mtime: s.mtimeMs }
      out.push(f)
      onFile?.(f)
    }
  }
  return out.sort((a, b) => a.relPath < b.relPath ? -1 : 1)
}
