/**
 * @module Which installer an environment uses. A new environment takes uv when it is on PATH, else
 * venv + pip, and records the choice in `.cec/local.json`; from then on the recorded installer is used,
 * so a pip environment does not turn into a uv one (new resolver, new lock) the day uv is installed.
 * Environments made before the choice was recorded get it inferred once from what they have.
 */
import { access, constants, readFile } from 'node:fs/promises'
import { delimiter, join } from 'node:path'
import { ComfydockError } from '../errors'
import { pathExists } from '../fs'
import type { EnvPaths, Workspace } from '../workspace'
import type { PythonBackend } from './backend'
import { readLocalSettings, writeLocalSettings, type EnvLocalSettings, type Installer } from './local-settings'
import { TORCH_INDEX_SETTING } from './settings'

/** The first executable named `name` on PATH, or undefined. */
export async function findOnPath (name: string): Promise<string | undefined> {
  const exts = process.platform === 'win32' ? ['.exe', '.cmd', ''] : ['']
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    for (const ext of exts) {
      const file = join(dir, name + ext)
      try {
        await access(file, constants.X_OK)
        return file
      } catch { /* keep looking */ }
    }
  }
  return undefined
}

/** How to get uv, and what an environment does without it; shown when pip is chosen. */
export const UV_ADVICE = 'Install uv for faster installs and a cross-platform uv.lock: `pip install uv` (or see https://docs.astral.sh/uv/getting-started/installation/). ' +
  'Without it comfydock uses venv + pip: slower installs, and a lock (requirements.lock.txt) resolved for this platform only.'

/** The installer for a new environment: uv when it is on PATH, else pip. */
export async function chooseInstaller (): Promise<Installer> {
  return (await findOnPath('uv')) ? 'uv' : 'pip'
}

/**
 * The installer an environment made before it was recorded was using: uv left its mark in the venv
 * (`uv = ...` in pyvenv.cfg) or a uv.lock in `.cec`; a venv without those is pip's. With no venv at
 * all, it is a new choice.
 */
async function inferInstaller (env: EnvPaths): Promise<Installer> {
  const cfg = await readFile(join(env.venv, 'pyvenv.cfg'), 'utf8').catch(() => undefined)
  if (cfg !== undefined) return /^uv\s*=/m.test(cfg) || await pathExists(env.uvLock) ? 'uv' : 'pip'
  if (await pathExists(env.uvLock)) return 'uv'
  return chooseInstaller()
}

/** The environment's installer and local settings, and uv's path when it is uv's (an error when uv is not on PATH). */
export interface EnvironmentInstaller {
  kind: Installer
  settings: EnvLocalSettings
  uv?: string
}

/**
 * Which installer the environment uses, without loading it: what `status` needs when the venv is as
 * it was at its last check, where no installer runs.
 */
export async function environmentInstaller (env: EnvPaths): Promise<EnvironmentInstaller> {
  let settings = await readLocalSettings(env)
  if (!settings.installer) {
    settings = { ...settings, installer: await inferInstaller(env) }
    if (await pathExists(env.cec)) await writeLocalSettings(env, settings)
  }
  if (settings.installer === 'pip') return { kind: 'pip', settings }
  const uv = await findOnPath('uv')
  if (!uv) {
    throw new ComfydockError('PYTHON_INSTALLER_MISSING', `environment "${env.name}" installs its Python packages with uv, which is not on PATH`, {
      hint: 'Install uv (`pip install uv`, or see https://docs.astral.sh/uv/getting-started/installation/) and try again; the environment\'s uv.lock needs it.',
    })
  }
  return { kind: 'uv', settings, uv }
}

export async function openPythonBackend (ws: Workspace, env: EnvPaths, installer?: EnvironmentInstaller): Promise<PythonBackend> {
  const { kind, settings, uv } = installer ?? await environmentInstaller(env)
  const torchBase = await ws.setting(TORCH_INDEX_SETTING)
  // each installer's code is loaded when it is opened: a command that never installs loads neither
  if (kind === 'pip') return new (await import('./pip')).PipBackend(ws, env, settings, torchBase)
  return new (await import('./uv')).UvBackend(ws, env, settings, uv!, torchBase)
}
