/**
 * @module `status`: one report built from sections, one per concern. This file owns the git, ComfyUI
 * and Python sections; nodes, models and workflows add theirs by exporting `get<X>Status(ws, env)`
 * from their folder and appending it to SECTIONS below.
 */
import { realpath } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { readManifest, type Pyproject } from '../manifest'
// files, not the layers' barrels: the chunks status loads then hold no installer, download, model-store
// or node-install code (see the README's "Python layer")
import { openGit } from '../git/git'
import { statusCode } from '../git/status'
import { pathExists } from '../fs'
import { REQUIREMENTS_LOCK } from '../python/lockfile'
import { extraneousPackages, missingFromLock, readLockState, type LockState } from '../python/lock-state'
import { environmentInstaller, openPythonBackend, type EnvironmentInstaller } from '../python/open-backend'
import { installedVersions } from '../python/site-packages'
import { recordCleanCheck, venvUnchangedSinceCheck } from '../python/venv-state'
import type { ComfydockError } from '../errors'
import { getNodeStatusSection } from '../nodes/operations/node-status'
import { getWorkflowStatusSection } from '../workflows/status'
import { getRepairStatus } from './repair-plan'
import type { EnvPaths, Workspace } from '../workspace'

export interface StatusSection {
  /** False when something needs the user's attention. */
  ok: boolean
  /** One line for humans. */
  summary: string
  /** Further lines for humans (what differs). */
  details?: string[]
  [key: string]: unknown
}

export interface EnvironmentStatus {
  name: string
  path: string
  active: boolean
  complete: boolean
  ok: boolean
  sections: Record<string, StatusSection>
}

type SectionFn = (ws: Workspace, env: EnvPaths, doc: Pyproject) => Promise<StatusSection>

/** What to do when a part of the environment lost its repository: make the environment again. */
function recreateAdvice (env: EnvPaths): string {
  return `Recreate the environment: \`comfydock export\` then \`comfydock import <file>\`, or \`comfydock delete ${env.name}\` then \`comfydock create ${env.name}\`.`
}

/** The `git` section: what `.cec` has that is not committed, and its last commit. */
export interface GitStatusSection extends StatusSection {
  head: { commit: string, short: string, subject: string } | null
  changes: Array<{ status: string, path: string }>
}

export async function getGitStatus (_ws: Workspace, env: EnvPaths): Promise<GitStatusSection> {
  // Without its own .git, git would report on an enclosing repository (a workspace inside the user's own).
  if (!(await pathExists(join(env.cec, '.git')))) {
    return {
      ok: false,
      summary: '.cec is not a git repository, so the environment has no history',
      details: [recreateAdvice(env)],
      head: null,
      changes: [],
    }
  }
  const git = openGit(env.cec)
  const changes = (await git.status()).map(e => ({ status: statusCode(e), path: e.path }))
  const head = (await git.log({ limit: 1 }))[0]
  return {
    ok: changes.length === 0,
    summary: changes.length === 0 ? `no uncommitted changes (last commit ${head?.short ?? 'none'}: ${head?.subject ?? ''})` : `${changes.length} uncommitted change${changes.length === 1 ? '' : 's'} in .cec`,
    details: changes.map(c => `${c.status.padEnd(2)} ${c.path}`),
    head: head ? { commit: head.commit, short: head.short, subject: head.subject } : null,
    changes,
  }
}

/**
 * The commit ComfyUI's own checkout is at, or null when `ComfyUI/` is not the top of a git repository
 * (git would otherwise answer for an enclosing repository, e.g. a workspace kept inside the user's own).
 */
async function comfyuiHead (comfyuiDir: string): Promise<string | null> {
  const found = await openGit(comfyuiDir).ownHead()
  if (!found) return null
  const own = await realpath(comfyuiDir).catch(() => comfyuiDir)
  return resolve(found.top) === own ? found.head : null
}

export async function getComfyuiStatus (_ws: Workspace, env: EnvPaths, doc: Pyproject): Promise<StatusSection> {
  const want = doc.tool.comfydock.comfyui_commit_sha
  if (!(await pathExists(env.comfyui))) return { ok: false, summary: 'ComfyUI/ is missing', expected: want ?? null, actual: null }
  const actual = await comfyuiHead(env.comfyui)
  if (actual === null) {
    return {
      ok: false,
      summary: 'ComfyUI/ is not a git checkout of its own, so its version cannot be checked',
      details: [recreateAdvice(env)],
      expected: want ?? null,
      actual: null,
    }
  }
  const ok = !want || actual === want
  return {
    ok,
    summary: ok ? `ComfyUI ${doc.tool.comfydock.comfyui_version ?? actual.slice(0, 12)}` : `ComfyUI is at ${actual.slice(0, 12)}, the manifest wants ${doc.tool.comfydock.comfyui_version} (${want?.slice(0, 12)})`,
    expected: want ?? null,
    actual,
  }
}

export async function getPythonStatus (ws: Workspace, env: EnvPaths, doc: Pyproject): Promise<StatusSection> {
  let installer: EnvironmentInstaller
  try {
    installer = await environmentInstaller(env)
  } catch (err) {
    return { ok: false, summary: `cannot check the Python packages: ${(err as Error).message.split('\n')[0]}`, details: (err as ComfydockError).hint ? [(err as ComfydockError).hint!] : [], backend: null, pending: [] }
  }
  try {
    // The venv's fingerprint (its dist-info folders) against the last clean check: unchanged, nothing to
    // read and no installer to load. Changed (an install by hand, a sync killed half-way), the venv is
    // compared with the lock.
    const fresh = await venvUnchangedSinceCheck(env, doc)
    const pending = fresh ? [] : await (await openPythonBackend(ws, env, installer)).pending(doc)
    // The lock is written by every change comfydock makes; none (an environment from before locks) or
    // one for another manifest (edited by hand, pulled) means the next install would resolve afresh.
    const state = fresh ? undefined : await readLockState(env, doc)
    const lock = state ? lockStatus(state) : 'ok'
    // what a sync would remove: left by a sync that was killed before its clean-up, or installed by hand
    const extra = state?.matches ? await extraneousPackages(env.venv, state.packages) : []
    if (!fresh && pending.length === 0 && extra.length === 0 && lock === 'ok') await recordCleanCheck(env, doc)
    const repair = `\`comfydock -e ${env.name} repair\``
    const lockLine = lock === 'missing'
      ? `no lock yet: ${repair} writes ${REQUIREMENTS_LOCK}`
      : lock === 'stale' ? `the lock is for another version of pyproject.toml: ${repair} resolves and writes it again` : undefined
    const drift = pending.length + extra.length
    return {
      ok: drift === 0 && lock === 'ok',
      summary: drift === 0
        ? lock === 'ok' ? `Python packages match the lock (${installer.kind})` : `Python packages are installed, but ${lock === 'missing' ? 'not locked' : 'the lock is out of date'} (${installer.kind})`
        : `the venv differs from the lock: ${[pending.length && `${pending.length} package${pending.length === 1 ? '' : 's'} missing or at another version`, extra.length && `${extra.length} not in the lock`].filter(Boolean).join(', ')}`,
      details: [
        ...pending.map(p => `needs ${p}`),
        ...extra.map(p => `not in the lock: ${p}`),
        ...(lockLine ? [lockLine] : drift ? [`${repair} installs exactly what the lock pins`] : []),
      ],
      backend: installer.kind,
      lock,
      pending,
      extra,
    }
  } catch (err) {
    return { ok: false, summary: `cannot check the Python packages: ${(err as Error).message.split('\n')[0]}`, backend: installer.kind, pending: [] }
  }
}

/**
 * For a command about to use the venv (`run`): a warning when it no longer has what the lock pins (a sync
 * killed half-way, a package changed by hand), told by the fingerprint and the lock alone: no installer runs.
 */
export async function venvDriftWarning (env: EnvPaths): Promise<string | undefined> {
  if (!(await pathExists(env.venv))) return undefined
  const doc = await readManifest(env.pyproject)
  if (await venvUnchangedSinceCheck(env, doc)) return undefined
  const state = await readLockState(env, doc)
  const repair = `\`comfydock -e ${env.name} repair\``
  if (!state.matches) return state.text === undefined ? undefined : `the lock is for another version of pyproject.toml; ${repair} resolves and installs it`
  const missing = await missingFromLock(env.venv, state.packages, await installedVersions(env.venv))
  const extra = await extraneousPackages(env.venv, state.packages)
  if (missing.length === 0 && extra.length === 0) {
    await recordCleanCheck(env, doc)
    return undefined
  }
  const parts = [missing.length && `lacks ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''}`, extra.length && `has ${extra.slice(0, 3).join(', ')}${extra.length > 3 ? ', …' : ''} the lock does not`]
  return `the venv differs from the lock (${parts.filter(Boolean).join('; ')}), as a sync stopped half-way leaves it; ${repair} installs exactly what the lock pins`
}

function lockStatus (state: LockState): 'ok' | 'missing' | 'stale' {
  return state.matches ? 'ok' : state.text === undefined ? 'missing' : 'stale'
}

/** Every section of `status`, in display order. Concerns add their `get<X>Status` here. */
const SECTIONS: Array<[string, SectionFn]> = [
  ['git', getGitStatus],
  ['comfyui', getComfyuiStatus],
  ['python', getPythonStatus],
  ['nodes', getNodeStatusSection],
  ['workflows', getWorkflowStatusSection],
  ['repair', getRepairStatus],
]

export async function getEnvironmentStatus (ws: Workspace, env: EnvPaths): Promise<EnvironmentStatus> {
  const doc = await readManifest(env.pyproject)
  // The sections only read (and each waits on its own git or file reads): run together, shown in order.
  const [results, complete] = await Promise.all([Promise.all(SECTIONS.map(([, fn]) => fn(ws, env, doc))), pathExists(env.completeMarker)])
  const sections: Record<string, StatusSection> = Object.fromEntries(SECTIONS.map(([name], i) => [name, results[i]]))
  return {
    name: env.name,
    path: env.root,
    active: ws.activeEnvironment === env.name,
    complete,
    ok: complete && Object.values(sections).every(s => s.ok),
    sections,
  }
}
