/**
 * @module Work folders of create and import, and what a killed one leaves. An environment is built in
 * a hidden `environments/.creating-<pid>-<name>-XXXXXX` folder and renamed to its name only when complete;
 * an imported bundle is extracted into `environments/.bundle-<pid>-XXXXXX`. A folder whose process is gone
 * is a leftover of a killed run: the next create or import removes it.
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Workspace } from '../workspace'

const WORK_DIR = /^\.(creating|bundle)-(\d+)-/

/** A new hidden folder to build environment `name` in. */
export async function makeCreatingDir (ws: Workspace, name: string): Promise<string> {
  return mkdtemp(join(ws.paths.environments, `.creating-${process.pid}-${name}-`))
}

/** The prefix `withTempDir` gets for a bundle extracted into the workspace. */
export const BUNDLE_DIR_PREFIX = (): string => `.bundle-${process.pid}`

function alive (pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' // exists, owned by someone else
  }
}

/** Removes the work folders of runs that were killed; returns their names. */
export async function removeInterruptedWork (ws: Workspace): Promise<string[]> {
  let names: string[]
  try {
    names = await readdir(ws.paths.environments)
  } catch {
    return []
  }
  const removed: string[] = []
  for (const name of names) {
    const m = WORK_DIR.exec(name)
    if (!m || alive(Number(m[2]))) continue
    await rm(join(ws.paths.environments, name), { recursive: true, force: true, maxRetries: 3 })
    removed.push(name)
  }
  return removed
}

/**
 * A venv records its own absolute path in its scripts' shebangs, `activate` and `pyvenv.cfg`; after
 * the rename from the work folder those are rewritten to the environment's real path.
 */
export async function relocateVenv (venv: string, from: string, to: string): Promise<void> {
  const files: string[] = [join(venv, 'pyvenv.cfg')]
  for (const dir of [join(venv, 'bin'), join(venv, 'Scripts')]) {
    try {
      for (const e of await readdir(dir, { withFileTypes: true })) if (e.isFile()) files.push(join(dir, e.name))
    } catch { /* no such folder on this platform */ }
  }
  try {
    for (const lib of await readdir(join(venv, 'lib'))) {
      const site = join(venv, 'lib', lib, 'site-packages')
      for (const e of await readdir(site).catch(() => [] as string[])) if (e.endsWith('.pth')) files.push(join(site, e))
    }
  } catch { /* no lib folder */ }
  const old = Buffer.from(from)
  // pip compiles bytecode that names its source by the old path (tracebacks would show no lines):
  // such files are removed and Python writes them afresh on first import. uv compiles none.
  for (const pyc of await findBytecode(join(venv, 'lib'))) {
    const data = await readFile(pyc).catch(() => undefined)
    if (data && data.indexOf(old) >= 0) await rm(pyc, { force: true })
  }
  for (const file of files) {
    const s = await stat(file).catch(() => undefined)
    if (!s || s.size > 1024 * 1024) continue
    const data = await readFile(file)
    if (data.indexOf(old) < 0) continue
    await writeFile(file, replaceBytes(data, old, Buffer.from(to)), { mode: s.mode })
  }
}

async function findBytecode (dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true })
    return entries.filter(e => e.isFile() && e.name.endsWith('.pyc')).map(e => join(e.parentPath, e.name))
  } catch {
    return []
  }
}

function replaceBytes (data: Buffer, a: Buffer, b: Buffer): Buffer {
  const parts: Buffer[] = []
  let at = 0
  for (let i = data.indexOf(a); i >= 0; i = data.indexOf(a, at)) {
    parts.push(data.subarray(at, i), b)
    at = i + a.length
  }
  parts.push(data.subarray(at))
  return Buffer.concat(parts)
}
