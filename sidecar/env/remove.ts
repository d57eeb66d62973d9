/**
 * @module Removing an environment folder, and only that: the target must be a direct child of the
 * workspace's environments folder (no symlink tricks, no parent paths).
 */
import { lstat, rm } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { ComfydockError } from '../errors'
import { pathExists } from '../fs'
import type { EnvPaths, Workspace } from '../workspace'

export async function removeEnvironmentDir (ws: Workspace, env: EnvPaths): Promise<void> {
  if (dirname(resolve(env.root)) !== resolve(ws.paths.environments)) {
    throw new ComfydockError('PATH_OUTSIDE_WORKSPACE', `refusing to remove ${env.root}: not an environment folder of ${ws.root}`)
  }
  try {
    // a symlinked environment folder: remove the link, never what it points at
    if ((await lstat(env.root)).isSymbolicLink()) {
      await rm(env.root, { force: true })
      return
    }
  } catch {
    return
  }
  await rm(env.root, { recursive: true, force: true, maxRetries: 3 })
}

export interface DeleteResult {
  name: string
  path: string
  /** The new active environment when the deleted one was active (null: none left active). */
  active: string | null
}

/** Deletes an environment (the caller asks for confirmation); the active one is unset. */
export async function deleteEnvironment (ws: Workspace, name: string): Promise<DeleteResult> {
  const env = ws.env(name)
  // a half-made folder (no pyproject) can be deleted too; a missing one gets ENV_NOT_FOUND
  if (!(await pathExists(env.root))) await ws.requireEnv(name)
  await removeEnvironmentDir(ws, env)
  if (ws.activeEnvironment === name) await ws.setActive(null)
  return { name, path: env.root, active: ws.activeEnvironment }
}
