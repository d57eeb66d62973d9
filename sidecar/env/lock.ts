/**
 * @module The environment lock: one comfydock process at a time changes an environment's `.cec` history
 * (a CLI `commit` and the panel's commit may otherwise race in git and pyproject). An exclusive file
 * created with `open(..., 'wx')` holds the owner's pid; a lock whose pid is dead is taken over; others
 * wait, then fail with ENV_BUSY naming the holder. It lives in `.cec/.git/` so git never records it.
 */
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises'
import { ComfydockError } from '../errors'
import type { EnvPaths } from '../workspace'

export interface EnvLockOptions {
  /** How long to wait for another process (ms). Default: COMFYDOCK_LOCK_TIMEOUT_MS, else 30 s. */
  timeoutMs?: number
  signal?: AbortSignal
}

export interface EnvLock {
  readonly file: string
  release (): Promise<void>
}

interface Holder { pid: number, host: string, operation: string, token: string, since: string }

const DEFAULT_TIMEOUT_MS = 30_000
const HALF_MADE_MS = 5_000

export const envLockFile = (env: EnvPaths): string => join(env.cec, '.git', 'comfydock.lock')

function defaultTimeout (): number {
  const fromEnv = Number(process.env.COMFYDOCK_LOCK_TIMEOUT_MS)
  return Number.isFinite(fromEnv) && fromEnv >= 0 ? fromEnv : DEFAULT_TIMEOUT_MS
}

async function readHolder (file: string): Promise<Holder | undefined> {
  try {
    const h = JSON.parse(await readFile(file, 'utf8')) as Holder
    return typeof h.pid === 'number' && typeof h.token === 'string' ? h : undefined
  } catch {
    return undefined // gone, or half-written by its owner this very moment
  }
}

/** Another host's pid cannot be checked: such a lock counts as alive. */
function isAlive (h: Holder): boolean {
  if (h.host !== hostname()) return true
  try {
    process.kill(h.pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** An owner writes its lock right after creating it: one still unreadable after a while was left half-made by a crash. */
async function isAbandoned (file: string): Promise<boolean> {
  try {
    return Date.now() - (await stat(file)).mtimeMs > HALF_MADE_MS
  } catch {
    return false
  }
}

/**
 * Moves a dead owner's lock aside. Only the file read as stale is removed: if another process took it
 * over in between, its live lock is put back.
 */
async function takeOver (file: string, stale: Holder | undefined): Promise<void> {
  const aside = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.stale`
  try {
    await rename(file, aside)
  } catch {
    return
  }
  const moved = await readHolder(aside)
  if (moved?.token !== stale?.token) await link(aside, file).catch(() => {})
  await unlink(aside).catch(() => {})
}

async function tryCreate (file: string, holder: Holder): Promise<boolean> {
  let fh
  try {
    fh = await open(file, 'wx', 0o644)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') return false
    if (code === 'ENOENT') {
      throw new ComfydockError('ENV_INCOMPLETE', `${file} cannot be created: the environment's .cec is not a git repository`, {
        hint: 'Run `comfydock status` to see what the environment is missing.',
        cause: err,
      })
    }
    throw err
  }
  try {
    await fh.writeFile(JSON.stringify(holder))
  } finally {
    await fh.close()
  }
  return true
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> => new Promise((resolve, reject) => {
  const t = setTimeout(resolve, ms)
  signal?.addEventListener('abort', () => { clearTimeout(t); reject(new ComfydockError('CANCELLED', 'cancelled while waiting for the environment lock')) }, { once: true })
})

/** Takes the lock of `env` for `operation` (shown to whoever waits, e.g. "comfydock commit"). */
export async function acquireEnvLock (env: EnvPaths, operation: string, opts: EnvLockOptions = {}): Promise<EnvLock> {
  const file = envLockFile(env)
  const me: Holder = { pid: process.pid, host: hostname(), operation, token: randomBytes(8).toString('hex'), since: new Date().toISOString() }
  const deadline = Date.now() + (opts.timeoutMs ?? defaultTimeout())
  let delay = 10
  for (;;) {
    if (opts.signal?.aborted) throw new ComfydockError('CANCELLED', 'cancelled while waiting for the environment lock')
    if (await tryCreate(file, me)) break
    const holder = await readHolder(file)
    if (holder ? !isAlive(holder) : await isAbandoned(file)) {
      await takeOver(file, holder)
      continue
    }
    if (Date.now() >= deadline) {
      const who = holder ? `pid ${holder.pid}: ${holder.operation}` : 'another comfydock process'
      throw new ComfydockError('ENV_BUSY', `environment "${env.name}" is busy (${who})`, {
        hint: `Wait for it to finish and run the command again. If no such process is running, delete ${file}.`,
      })
    }
    await sleep(Math.min(delay, Math.max(1, deadline - Date.now())), opts.signal)
    delay = Math.min(delay * 2, 200)
  }
  let released = false
  return {
    file,
    async release () {
      if (released) return
      released = true
      // Remove only our own lock (a takeover by mistake must not be undone by deleting someone else's).
      const h = await readHolder(file)
      if (h?.token === me.token) await unlink(file).catch(() => {})
    },
  }
}

/** Runs fn while holding the environment lock. */
export async function withEnvLock<T> (env: EnvPaths, operation: string, fn: () => Promise<T>, opts: EnvLockOptions = {}): Promise<T> {
  const lock = await acquireEnvLock(env, operation, opts)
  try {
    return await fn()
  } finally {
    await lock.release()
  }
}
