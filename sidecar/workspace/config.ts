/**
 * @module Workspace settings. Plain settings live in workspace.json; tokens live in
 * credentials.json (mode 0600), which no git repository ever contains, and are never shown in full.
 */
import { chmod, readFile } from 'node:fs/promises'
import { delimiter } from 'node:path'
import { z } from 'zod'
import { ComfydockError } from '../errors'
import { writeJsonAtomic } from '../fs'

/** One setting: a plain value in workspace.json, or (`secret`) a credential in credentials.json. */
export interface SettingSpec {
  key: string
  description: string
  /** Value when unset. */
  default: string
  secret?: boolean
  /** Throws CONFIG_INVALID_VALUE (with the form to use) for a value that cannot work. */
  check?: (value: string) => void
}

/**
 * The workspace's own settings. Other concerns declare theirs beside the code that reads them (each model
 * host its base URL and token, see models/hosts) and pass them in as a catalog; the CLI lists them all.
 */
export const WORKSPACE_SETTINGS = [
  { key: 'models_dir', default: '', description: 'default models directory (empty: <workspace>/models)' },
  { key: 'comfyui_source', default: 'https://github.com/comfyanonymous/ComfyUI.git', description: 'where ComfyUI is cloned from: a git URL, a local path or a file:// URL' },
  { key: 'registry_url', default: 'https://api.comfy.org', description: 'Comfy Registry API base URL' },
  { key: 'node_mappings_url', default: 'https://raw.githubusercontent.com/ComfyDock/ComfyDock-Registry-Data/main/data/node_mappings.json', description: 'URL of a node_mappings.json (node class -> pack), as the original tool publishes it' },
  { key: 'trusted_local_sources', default: '', description: `local folders whose git repositories manifests and bundles may name (separated by "${delimiter}"); comfyui_source and paths given to \`node add\` are trusted already` },
] as const satisfies readonly SettingSpec[]

export type PlainConfigKey = typeof WORKSPACE_SETTINGS[number]['key']

export const DEFAULT_CONFIG = Object.fromEntries(WORKSPACE_SETTINGS.map(s => [s.key, s.default])) as Record<PlainConfigKey, string>

export type Credentials = Record<string, string>

/** The spec of `key` in `catalog`, or CONFIG_UNKNOWN_KEY naming the known keys. */
export function findSetting (key: string, catalog: readonly SettingSpec[] = WORKSPACE_SETTINGS): SettingSpec {
  const spec = catalog.find(s => s.key === key)
  if (!spec) {
    throw new ComfydockError('CONFIG_UNKNOWN_KEY', `unknown config key "${key}"`, {
      hint: `Known keys: ${catalog.map(s => s.key).join(', ')}. Run \`comfydock config --show\`.`,
    })
  }
  return spec
}

/** `hf_abcdef123456` -> `hf_a…3456`. */
export function maskSecret (value: string | undefined): string {
  if (!value) return ''
  if (value.length <= 8) return '****'
  return `${value.slice(0, 4)}…${value.slice(-4)}`
}

const credentialsSchema = z.record(z.string())

export async function readCredentials (file: string): Promise<Credentials> {
  try {
    return credentialsSchema.parse(JSON.parse(await readFile(file, 'utf8'))) as Credentials
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw new ComfydockError('WORKSPACE_INVALID', `cannot read ${file}: ${(err as Error).message}`, { cause: err })
  }
}

export async function writeCredentials (file: string, creds: Credentials): Promise<void> {
  await writeJsonAtomic(file, creds, { mode: 0o600 })
  await chmod(file, 0o600)
}
