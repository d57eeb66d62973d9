/**
 * @module Workspace settings. Plain settings live in workspace.json; tokens live in
 * credentials.json (mode 0600), which no git repository ever contains, and are never shown in full.
 */
import { chmod, readFile } from 'node:fs/promises'
import { ComfydockError } from '../errors'
import { writeJsonAtomic } from '../fs'

export const DEFAULT_CONFIG = {
  models_dir: '',
  comfyui_source: 'https://github.com/comfyanonymous/ComfyUI.git',
  registry_url: 'https://api.comfy.org',
  node_mappings_url: 'https://raw.githubusercontent.com/ComfyDock/ComfyDock-Registry-Data/main/data/node_mappings.json',
  huggingface_url: 'https://huggingface.co',
  civitai_url: 'https://civitai.com',
}

export type PlainConfigKey = keyof typeof DEFAULT_CONFIG
export type SecretKey = 'hf_token' | 'civitai_token'
export type ConfigKey = PlainConfigKey | SecretKey

export const SECRET_KEYS: readonly SecretKey[] = ['hf_token', 'civitai_token']
export const CONFIG_KEYS: readonly ConfigKey[] = [...Object.keys(DEFAULT_CONFIG) as PlainConfigKey[], ...SECRET_KEYS]

export const CONFIG_DESCRIPTIONS: Record<ConfigKey, string> = {
  models_dir: 'default models directory (empty: <workspace>/models)',
  comfyui_source: 'where ComfyUI is cloned from: a git URL, a local path or a file:// URL',
  registry_url: 'Comfy Registry API base URL',
  node_mappings_url: 'URL of a node_mappings.json (node class -> pack), as the original tool publishes it',
  huggingface_url: 'Hugging Face base URL',
  civitai_url: 'CivitAI base URL',
  hf_token: 'Hugging Face access token (sent only to the Hugging Face host)',
  civitai_token: 'CivitAI API key (sent only to the CivitAI host)',
}

export type Credentials = Partial<Record<SecretKey, string>>

export function isConfigKey (key: string): key is ConfigKey {
  return (CONFIG_KEYS as readonly string[]).includes(key)
}

export function isSecretKey (key: string): key is SecretKey {
  return (SECRET_KEYS as readonly string[]).includes(key)
}

export function assertConfigKey (key: string): asserts key is ConfigKey {
  if (!isConfigKey(key)) {
    throw new ComfydockError('CONFIG_UNKNOWN_KEY', `unknown config key "${key}"`, {
      hint: `Known keys: ${CONFIG_KEYS.join(', ')}. Run \`comfydock config --show\`.`,
    })
  }
}

/** `hf_abcdef123456` -> `hf_a…3456`. */
export function maskSecret (value: string | undefined): string {
  if (!value) return ''
  if (value.length <= 8) return '****'
  return `${value.slice(0, 4)}…${value.slice(-4)}`
}

export async function readCredentials (file: string): Promise<Credentials> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Credentials
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw new ComfydockError('WORKSPACE_INVALID', `cannot read ${file}: ${(err as Error).message}`, { cause: err })
  }
}

export async function writeCredentials (file: string, creds: Credentials): Promise<void> {
  await writeJsonAtomic(file, creds, { mode: 0o600 })
  await chmod(file, 0o600)
}
