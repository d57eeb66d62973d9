/**
 * @module An environment's `.cec` at a commit, as the merge reads it, and the merge's result written
 * back. A commit fetched from a remote is a stranger's: its manifest passes the schema before it is
 * used, and every path written stays inside `.cec` and out of `.git`.
 */
import { rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import { mkdir } from 'node:fs/promises'
import { ComfydockError } from '../errors'
import { safeDescendant, writeFileAtomic } from '../fs'
import type { Git } from '../git'
import { parseManifest, writeManifest, type Pyproject } from '../manifest'
import type { EnvPaths } from '../workspace'
import { MANIFEST_FILE, type CecSnapshot } from './merge/snapshot'

/** The snapshot of an empty history: what two unrelated histories are merged against. */
export function emptySnapshot (): CecSnapshot {
  const manifest: Pyproject = { project: { name: '', version: '', dependencies: [] }, tool: { comfydock: {} } }
  return { manifest, files: {} }
}

export async function readCecAt (git: Git, commit: string, what: string): Promise<CecSnapshot> {
  const paths = await git.listFiles(commit)
  const text = await git.show(commit, MANIFEST_FILE)
  if (text === null) {
    throw new ComfydockError('MANIFEST_INVALID', `${what} (${commit.slice(0, 7)}) has no ${MANIFEST_FILE}: it is not a comfydock environment`, {
      hint: 'Check that the remote is the repository of an environment (`comfydock remote list`).',
    })
  }
  const manifest = parseManifest(text, `${MANIFEST_FILE} of ${what} (${commit.slice(0, 7)})`)
  const files: Record<string, string> = {}
  const rest = paths.filter(p => p !== MANIFEST_FILE)
  // a handful of small text files: one `git show` each, a few at a time
  for (let i = 0; i < rest.length; i += 8) {
    const batch = rest.slice(i, i + 8)
    const texts = await Promise.all(batch.map(p => git.show(commit, p)))
    batch.forEach((p, j) => { if (texts[j] !== null) files[p] = texts[j]! })
  }
  return { manifest, files }
}

/** A path of a merged `.cec` file, checked: inside `.cec`, never in git's own folder. */
function cecFile (env: EnvPaths, path: string): string {
  if (path.split('/')[0].toLowerCase() === '.git') {
    throw new ComfydockError('UNSAFE_PATH', `the merged environment names "${path}", inside git's own folder`, { hint: 'The remote\'s manifest is not usable; ask who pushed it to fix it.' })
  }
  return safeDescendant(env.cec, path, 'environment file')
}

/**
 * Makes `.cec`'s work tree the merge result: files `before` tracked that the result lacks are removed,
 * every file of the result written (the manifest through the manifest writer).
 */
export async function writeCec (env: EnvPaths, before: CecSnapshot, result: CecSnapshot): Promise<void> {
  for (const path of Object.keys(before.files)) {
    if (!(path in result.files)) await rm(cecFile(env, path), { force: true })
  }
  for (const [path, text] of Object.entries(result.files)) {
    const file = cecFile(env, path)
    await mkdir(dirname(file), { recursive: true })
    await writeFileAtomic(file, text)
  }
  await writeManifest(env.pyproject, result.manifest)
}
