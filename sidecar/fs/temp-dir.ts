/** @module Temporary folders that are removed whatever happens. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** `parent` lets callers keep temp data on the same filesystem as its destination (cheap renames). */
export async function withTempDir<T> (prefix: string, fn: (dir: string) => Promise<T>, parent = tmpdir()): Promise<T> {
  const dir = await mkdtemp(join(parent, `${prefix}-`))
  try {
    return await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
