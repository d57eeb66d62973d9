/** Temp folders under test/.tmp (same filesystem as the repo, inspectable after a failure), removed after each test file. */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll } from 'vitest'

const base = resolve(import.meta.dirname, '..', '.tmp')

export function makeTempDir (prefix = 't'): string {
  mkdirSync(base, { recursive: true })
  const dir = mkdtempSync(join(base, `${prefix}-`))
  afterAll(() => { if (!process.env.KEEP_TMP) rmSync(dir, { recursive: true, force: true }) })
  return dir
}
