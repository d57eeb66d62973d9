/**
 * @module What `node add` is doing while it changes the environment, kept on disk so that a process
 * killed mid-way (kill -9, a power cut: no `finally` runs) is undone by the next node command: its
 * pyproject.toml and lock are put back and the half-added pack folder removed. Without it, the rerun met
 * "already tracked" for a pack whose Python packages were never installed.
 */
import { createHash } from 'node:crypto'
import { readFile, rm } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { z } from 'zod'
import { pathExists, writeFileAtomic, writeJsonAtomic } from '../../fs'
import { openGit } from '../../git'
import { readManifest } from '../../manifest'
import { restoreLock, snapshotLock } from '../../python'
import { packDir, type EnvPaths } from '../../workspace'

const journalSchema = z.object({
  version: z.literal(1),
  pid: z.number().int(),
  host: z.string(),
  pack: z.string(),
  folder: z.string(),
  /** The pack folder is the add's own (not a development node's): removed when undone. */
  ownsFolder: z.boolean(),
  pyproject: z.string(),
  /** sha256 of the pyproject.toml the add wrote: the undo applies only while the file is still that. */
  written: z.string().optional(),
  requirementsLock: z.string().optional(),
  uvLock: z.string().optional(),
})

const journalFile = (env: EnvPaths): string => join(env.root, '.comfydock-staging', 'node-add.journal.json')
const b64 = (b: Buffer | undefined): string | undefined => b?.toString('base64')

/** Written before the add changes anything; removed by `clearAddJournal` whatever the outcome. */
export async function writeAddJournal (env: EnvPaths, pack: string, folder: string, ownsFolder: boolean): Promise<void> {
  const lock = await snapshotLock(env)
  await writeJsonAtomic(journalFile(env), {
    version: 1, pid: process.pid, host: hostname(), pack, folder, ownsFolder,
    pyproject: (await readFile(env.pyproject)).toString('base64'),
    requirementsLock: b64(lock.requirements), uvLock: b64(lock.uvLock),
  })
}

/** Records what the add wrote to pyproject.toml (called right after it wrote it). */
export async function noteAddWritten (env: EnvPaths): Promise<void> {
  const file = journalFile(env)
  const j = journalSchema.parse(JSON.parse(await readFile(file, 'utf8')))
  await writeJsonAtomic(file, { ...j, written: sha256(await readFile(env.pyproject)) })
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

export async function clearAddJournal (env: EnvPaths): Promise<void> {
  await rm(journalFile(env), { force: true })
}

function alive (pid: number, host: string): boolean {
  if (host !== hostname()) return true
  if (pid === process.pid) return false
  try { process.kill(pid, 0); return true } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM' }
}

/**
 * Undoes an add whose process died: while pyproject.toml is still what that add wrote (not changed or
 * committed since), it and the lock are put back as they were before, and the pack's folder (if that add
 * made it and nothing tracks it) removed. Returns the message to show, or undefined when nothing was undone.
 */
export async function recoverInterruptedAdd (env: EnvPaths): Promise<string | undefined> {
  let raw: string
  try { raw = await readFile(journalFile(env), 'utf8') } catch { return undefined }
  let j: z.infer<typeof journalSchema>
  try { j = journalSchema.parse(JSON.parse(raw)) } catch { await clearAddJournal(env); return undefined }
  if (alive(j.pid, j.host)) return undefined
  const current = await readFile(env.pyproject).catch(() => undefined)
  // Undone only while pyproject.toml is what the killed add wrote and no commit has taken it since.
  const committed = current !== undefined && await openGit(env.cec).show('HEAD', 'pyproject.toml').then(t => t !== null && Buffer.from(t, 'utf8').equals(current), () => false)
  const stillThere = current !== undefined && j.written !== undefined && sha256(current) === j.written && !committed
  if (j.written !== undefined && !stillThere) { await clearAddJournal(env); return undefined }
  if (stillThere) {
    await writeFileAtomic(env.pyproject, Buffer.from(j.pyproject, 'base64'))
    await restoreLock(env, { requirements: j.requirementsLock ? Buffer.from(j.requirementsLock, 'base64') : undefined, uvLock: j.uvLock ? Buffer.from(j.uvLock, 'base64') : undefined })
  }
  // the folder goes only when the restored manifest does not track a pack there
  const restored = await readManifest(env.pyproject).catch(() => undefined)
  const tracked = restored && Object.values(restored.tool.comfydock.nodes ?? {}).some(e => e.name === j.folder)
  const folder = packDir(env, j.folder)
  const removed = j.ownsFolder && !tracked && await pathExists(folder)
  if (removed) await rm(folder, { recursive: true, force: true })
  await clearAddJournal(env)
  return stillThere || removed
    ? `undid an interrupted \`node add ${j.pack}\` (the process was killed): pyproject.toml and the lock are as before it; run \`comfydock repair\` if the venv got part of its packages`
    : undefined
}
