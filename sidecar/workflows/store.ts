/**
 * @module Where an environment's workflows live: the live copies ComfyUI saves in
 * `ComfyUI/user/default/workflows/<name>.json` (top level only, as the original) and the committed snapshots
 * in `.cec/workflows/<name>.json`.
 */
import { readdir } from 'node:fs/promises'
import { ComfydockError } from '../errors'
import { pathComponentProblem, readSmallFile, safeChild } from '../fs'
import type { EnvPaths } from '../workspace'

export function assertWorkflowName (name: string): string {
  const n = name.endsWith('.json') ? name.slice(0, -5) : name
  if (!n || n.startsWith('.') || pathComponentProblem(`${n}.json`)) {
    throw new ComfydockError('INVALID_ARGUMENT', `"${name}" is not a workflow name`, {
      hint: 'Use the file name without folder, e.g. `portrait` for user/default/workflows/portrait.json (see `comfydock workflow list`).',
    })
  }
  return n
}

async function jsonNames (dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true }))
      .filter(e => e.isFile() && e.name.endsWith('.json') && !e.name.startsWith('.'))
      .map(e => e.name.slice(0, -5))
      .sort()
  } catch {
    return []
  }
}

export const listUserWorkflowNames = (env: EnvPaths): Promise<string[]> => jsonNames(env.userWorkflows)
export const listSnapshotNames = (env: EnvPaths): Promise<string[]> => jsonNames(env.cecWorkflows)

async function readIfExists (file: string): Promise<Buffer | undefined> {
  try {
    return readSmallFile(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

/** A tracked name comes from a manifest that may be a stranger's: it is checked where it becomes a file, too. */
export const userWorkflowFile = (env: EnvPaths, name: string): string => safeChild(env.userWorkflows, `${name}.json`, 'workflow file')
export const snapshotFile = (env: EnvPaths, name: string): string => safeChild(env.cecWorkflows, `${name}.json`, 'workflow file')
export const readUserWorkflow = (env: EnvPaths, name: string): Promise<Buffer | undefined> => readIfExists(userWorkflowFile(env, name))
export const readSnapshot = (env: EnvPaths, name: string): Promise<Buffer | undefined> => readIfExists(snapshotFile(env, name))

/** The user folder's copy and the snapshot of each name. */
export async function readCopies (env: EnvPaths, names: readonly string[]): Promise<Map<string, [live: Buffer | undefined, snapshot: Buffer | undefined]>> {
  const out = new Map<string, [Buffer | undefined, Buffer | undefined]>()
  for (const name of names) out.set(name, [await readUserWorkflow(env, name), await readSnapshot(env, name)])
  return out
}
