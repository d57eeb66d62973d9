/**
 * One uv and one pip cache for every test that installs real packages from PyPI, kept under
 * test/.tmp across runs, so a package is downloaded once per machine rather than once per test.
 * Returns a function that puts the environment back.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'

const ROOT = join(import.meta.dirname, '..', '.tmp', 'installer-caches')

export function sharedInstallerCaches (): () => void {
  const keys = ['UV_CACHE_DIR', 'PIP_CACHE_DIR'] as const
  const saved = Object.fromEntries(keys.map(k => [k, process.env[k]]))
  mkdirSync(ROOT, { recursive: true })
  process.env.UV_CACHE_DIR = join(ROOT, 'uv')
  process.env.PIP_CACHE_DIR = join(ROOT, 'pip')
  return () => {
    for (const k of keys) {
      if (saved[k] === undefined) delete process.env[k]
      else process.env[k] = saved[k]
    }
  }
}
