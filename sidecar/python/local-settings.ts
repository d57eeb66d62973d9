/**
 * @module Machine-local Python settings of one environment, kept in the git-ignored `.cec/local.json`.
 * They never go into pyproject.toml: an interpreter path or a CUDA index is true for one machine only
 * (leaking them into the shared manifest was the original tool's most reported bug).
 */
import { readFile } from 'node:fs/promises'
import { ComfydockError } from '../errors'
import { writeJsonAtomic } from '../fs'
import type { EnvPaths } from '../workspace'

export const TORCH_BACKEND_PATTERN = /^(auto|cpu|mps|cu\d{2,3}|rocm\d+(\.\d+)*|xpu)$/

export type Installer = 'uv' | 'pip'

export interface EnvLocalSettings {
  /**
   * The installer the environment was made with; every later install uses it, so an environment never
   * silently changes resolver (and lock format) because uv appeared on or left PATH.
   */
  installer?: Installer
  /** The base interpreter the venv is made from (absolute path, or a command on PATH). */
  python?: string
  /** major.minor of that interpreter, as found when the environment was made. */
  python_version?: string
  /** Lets the venv see the interpreter's own packages (e.g. a distribution's torch). */
  system_site_packages?: boolean
  /** auto | cpu | cuXXX | rocmX | mps: which PyTorch wheel index to use on this machine. */
  torch_backend?: string
  /** Package index options for this machine only. */
  index_url?: string
  extra_index_urls?: string[]
  find_links?: string[]
}

export async function readLocalSettings (env: EnvPaths): Promise<EnvLocalSettings> {
  let text: string
  try {
    text = await readFile(env.localSettings, 'utf8')
  } catch {
    return {}
  }
  try {
    return JSON.parse(text) as EnvLocalSettings
  } catch (err) {
    throw new ComfydockError('MANIFEST_INVALID', `${env.localSettings} is not valid JSON: ${(err as Error).message}`, {
      hint: `Fix or delete ${env.localSettings} (it only holds machine-local settings).`,
      cause: err,
    })
  }
}

export async function writeLocalSettings (env: EnvPaths, settings: EnvLocalSettings): Promise<void> {
  await writeJsonAtomic(env.localSettings, settings)
}

export const DEFAULT_TORCH_INDEX_BASE = 'https://download.pytorch.org/whl'

/**
 * The PyTorch wheel index for an explicit backend under `base` (the workspace's `torch_index_url`);
 * undefined for `auto` and `mps` (the default index has those wheels).
 */
export function torchIndexUrl (backend: string | undefined, base = DEFAULT_TORCH_INDEX_BASE): string | undefined {
  if (!backend || backend === 'auto' || backend === 'mps') return undefined
  return `${base.replace(/\/+$/, '')}/${backend}`
}
