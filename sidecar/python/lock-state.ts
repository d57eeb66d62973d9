/**
 * @module What both installers share around the lock: reading the environment's lock and whether it
 * still matches the manifest, what the venv lacks against it, and which installed packages the lock
 * no longer has (to remove them, sparing the machine-local torch family and what only it needs).
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from '../fs'
import type { Pyproject } from '../manifest'
import type { EnvPaths } from '../workspace'
import { applicablePackages, parseRequirementsLock, requirementsDigest, REQUIREMENTS_LOCK, TORCH_FAMILY, type LockedPackage } from './lockfile'
import { markerEnv } from './markers'
import { requirementName } from './requirements'
import { listDistributions, requiredNames, venvSitePackages } from './site-packages'

export interface LockState {
  /** requirements.lock.txt as it is in `.cec`, if any. */
  text?: string
  packages: LockedPackage[]
  /** uv.lock as it is in `.cec`, if any. */
  uvLock?: string
  /** The requirements lock was resolved from exactly this manifest's requirements. */
  matches: boolean
}

export function requirementsLockPath (env: EnvPaths): string {
  return join(env.cec, REQUIREMENTS_LOCK)
}

export async function readLockState (env: EnvPaths, doc: Pyproject): Promise<LockState> {
  const text = await readFile(requirementsLockPath(env), 'utf8').catch(() => undefined)
  const uvLock = await readFile(env.uvLock, 'utf8').catch(() => undefined)
  const parsed = text === undefined ? { packages: [] as LockedPackage[], digest: undefined } : parseRequirementsLock(text)
  return { text, packages: parsed.packages, uvLock, matches: text !== undefined && parsed.digest === requirementsDigest(doc) }
}

/** The lock files as they are now (undefined: absent), to put back when a change fails. */
export interface LockSnapshot { requirements?: Buffer, uvLock?: Buffer }

export async function snapshotLock (env: EnvPaths): Promise<LockSnapshot> {
  return {
    requirements: await readFile(requirementsLockPath(env)).catch(() => undefined),
    uvLock: await readFile(env.uvLock).catch(() => undefined),
  }
}

export async function restoreLock (env: EnvPaths, snap: LockSnapshot): Promise<void> {
  const { rm } = await import('node:fs/promises')
  for (const [file, data] of [[requirementsLockPath(env), snap.requirements], [env.uvLock, snap.uvLock]] as const) {
    if (data === undefined) await rm(file, { force: true })
    else await writeFileAtomic(file, data)
  }
}

/** major.minor.patch of the venv's Python, from pyvenv.cfg. */
export async function venvPythonVersion (venv: string): Promise<string | undefined> {
  const cfg = await readFile(join(venv, 'pyvenv.cfg'), 'utf8').catch(() => '')
  return /^(?:version_info|version)\s*=\s*(\d+\.\d+(?:\.\d+)?)/m.exec(cfg)?.[1]
}

/** Lock entries for this machine that the venv does not have at the locked version ("name==version"). */
export async function missingFromLock (venv: string, packages: LockedPackage[], installed: Record<string, string>): Promise<string[]> {
  const version = await venvPythonVersion(venv)
  const wanted = version ? applicablePackages(packages, markerEnv(version)) : packages
  return wanted.filter(p => installed[p.name] !== p.version).map(p => `${p.name}==${p.version}`)
}

/** The manifest's torch-family requirements the venv has nothing installed for (machine-local, unpinned). */
export function missingTorch (torchReqs: string[], installed: Record<string, string>): string[] {
  return torchReqs.filter(r => !installed[requirementName(r)])
}

const NEVER_REMOVED = new Set(['pip', 'setuptools', 'wheel', ...TORCH_FAMILY])

/**
 * Distributions in the venv's own site-packages that the lock does not have and nothing machine-local
 * needs: the torch family and everything only reachable from it (its CUDA libraries, sympy, ...) stay.
 */
export async function extraneousPackages (venv: string, packages: LockedPackage[]): Promise<string[]> {
  const site = await venvSitePackages(venv)
  if (!site) return []
  const dists = await listDistributions(site)
  const locked = new Set(packages.map(p => p.name))
  const keep = new Set<string>()
  const queue = TORCH_FAMILY.filter(n => dists.has(n))
  while (queue.length) {
    const name = queue.pop()!
    if (keep.has(name)) continue
    keep.add(name)
    const dist = dists.get(name)
    if (dist) for (const dep of await requiredNames(dist)) if (dists.has(dep) && !keep.has(dep)) queue.push(dep)
  }
  return [...dists.keys()].filter(n => !locked.has(n) && !keep.has(n) && !NEVER_REMOVED.has(n)).sort()
}
