/**
 * @module Where a tracked workflow's current content lives. Usually it is the copy ComfyUI saves in the
 * environment's user folder. A workflow committed from the panel of a ComfyUI whose user folder is not the
 * environment's (`serve` beside the user's own ComfyUI), or from a tab never saved, has no copy there: it
 * lives in the browser, and on this machine its last commit stands for it. Such a workflow is tracked like
 * any other for `workflow list`, `status` and `commit`; it is not "deleted". Which workflows live in the
 * browser is machine-local (a teammate who imports them gets files in their user folder), so the list is
 * kept beside the environment, outside .cec.
 */
import { z } from 'zod'
import { readSmallFile, writeJsonAtomic } from '../fs'
import type { EnvPaths } from '../workspace'
import { readSnapshot, readUserWorkflow } from './store'

export type WorkflowHome = 'user-folder' | 'browser'

const fileSchema = z.object({ version: z.literal(1), workflows: z.array(z.string()) })

/** Names of the tracked workflows that live in a browser. A missing or unreadable file means none. */
export async function readBrowserWorkflows (env: EnvPaths): Promise<Set<string>> {
  try {
    const parsed = fileSchema.safeParse(JSON.parse(readSmallFile(env.browserWorkflows, 'utf8')))
    return new Set(parsed.success ? parsed.data.workflows : [])
  } catch {
    return new Set()
  }
}

export async function writeBrowserWorkflows (env: EnvPaths, names: Iterable<string>): Promise<void> {
  const list = [...new Set(names)].sort()
  const before = [...await readBrowserWorkflows(env)].sort()
  if (list.length === before.length && list.every((n, i) => n === before[i])) return
  await writeJsonAtomic(env.browserWorkflows, { version: 1, workflows: list })
}

export interface CurrentContent {
  bytes: Buffer
  home: WorkflowHome
}

/**
 * A tracked workflow's current content: the user folder's copy when there is one, else, for a workflow that
 * lives in the browser, its committed snapshot. Undefined: it was deleted.
 */
export async function currentContent (env: EnvPaths, name: string, inBrowser: Set<string>): Promise<CurrentContent | undefined> {
  const live = await readUserWorkflow(env, name)
  if (live) return { bytes: live, home: 'user-folder' }
  if (!inBrowser.has(name)) return undefined
  return currentOf(name, undefined, await readSnapshot(env, name), inBrowser)
}

/** currentContent from copies already read (the user folder's and the snapshot). */
export function currentOf (name: string, live: Buffer | undefined, snapshot: Buffer | undefined, inBrowser: Set<string>): CurrentContent | undefined {
  if (live) return { bytes: live, home: 'user-folder' }
  if (!inBrowser.has(name) || !snapshot) return undefined
  return { bytes: snapshot, home: 'browser' }
}
