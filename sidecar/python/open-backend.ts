/** @module Picks the backend: uv when it is on PATH, else venv + pip. */
import { access, constants } from 'node:fs/promises'
import { delimiter, join } from 'node:path'
import type { EnvPaths, Workspace } from '../workspace'
import type { PythonBackend } from './backend'
import { readLocalSettings } from './local-settings'
import { PipBackend } from './pip'
import { UvBackend } from './uv'

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

export async function openPythonBackend (ws: Workspace, env: EnvPaths): Promise<PythonBackend> {
  const settings = await readLocalSettings(env)
  const uv = await findOnPath('uv')
  return uv ? new UvBackend(ws, env, settings, uv) : new PipBackend(ws, env, settings)
}
