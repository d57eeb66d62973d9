/**
 * @module The venv's last known-good check, kept inside the venv (`.comfydock-state.json`, gone with
 * the venv): its fingerprint and the lock it matched. `status` compares both with what is there now and
 * only looks at the packages again when something changed, so a warm `status` runs no installer at all.
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeJsonAtomic } from '../fs'
import type { Pyproject } from '../manifest'
import type { EnvPaths } from '../workspace'
import { requirementsLockPath } from './lock-state'
import { requirementsDigest } from './lockfile'
import { venvFingerprint } from './site-packages'

interface VenvState { fingerprint: string, lock: string }

const stateFile = (env: EnvPaths): string => join(env.venv, '.comfydock-state.json')

/** What the venv was checked against: the manifest's requirements and the lock file's bytes. */
async function lockDigest (env: EnvPaths, doc: Pyproject): Promise<string> {
  const lock = await readFile(requirementsLockPath(env)).catch(() => Buffer.alloc(0))
  return createHash('sha256').update(requirementsDigest(doc)).update(lock).digest('hex')
}

/** True when the venv and the lock are what they were at the last clean check. */
export async function venvUnchangedSinceCheck (env: EnvPaths, doc: Pyproject): Promise<boolean> {
  try {
    const saved = JSON.parse(await readFile(stateFile(env), 'utf8')) as VenvState
    return saved.fingerprint === await venvFingerprint(env.venv) && saved.lock === await lockDigest(env, doc)
  } catch {
    return false
  }
}

/** Records a clean check (the venv has exactly what the lock pins). */
export async function recordCleanCheck (env: EnvPaths, doc: Pyproject): Promise<void> {
  const fingerprint = await venvFingerprint(env.venv)
  if (!fingerprint) return
  await writeJsonAtomic(stateFile(env), { fingerprint, lock: await lockDigest(env, doc) } satisfies VenvState).catch(() => undefined)
}
