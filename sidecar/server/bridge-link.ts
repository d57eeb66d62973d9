/**
 * @module Puts the bridge custom node (`web/` of this package: `__init__.py` + the built panel) into an
 * environment's `ComfyUI/custom_nodes/comfydock`, as a link so an upgrade of comfydock needs no re-copy.
 */
import { lstat, mkdir, readlink, rm, symlink } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ComfydockError } from '../errors'

export const BRIDGE_NODE_NAME = 'comfydock'

/** The package's `web/` folder, found from this file whether bundled (dist/) or run from source. */
export function bridgeSourceDir (): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'web', '__init__.py'))) return join(dir, 'web')
    dir = resolve(dir, '..')
  }
  throw new ComfydockError('FILE_NOT_FOUND', 'the comfydock bridge (web/__init__.py) is missing from this installation', {
    hint: 'Reinstall comfydock (`npm install -g comfydock`).',
  })
}

/**
 * Links the bridge into `customNodes`. A link of ours is refreshed; a real folder of that name is the
 * user's own and is left alone (returned as `kept`).
 */
export async function linkBridge (customNodes: string, source = bridgeSourceDir()): Promise<{ path: string, linked: boolean, kept: boolean }> {
  const target = join(customNodes, BRIDGE_NODE_NAME)
  await mkdir(customNodes, { recursive: true })
  const info = await lstat(target).catch(() => null)
  if (info && !info.isSymbolicLink()) return { path: target, linked: false, kept: true }
  if (info?.isSymbolicLink()) {
    if (resolve(customNodes, await readlink(target)) === resolve(source)) return { path: target, linked: true, kept: false }
    await rm(target, { force: true })
  }
  await symlink(source, target, process.platform === 'win32' ? 'junction' : 'dir')
  return { path: target, linked: true, kept: false }
}
