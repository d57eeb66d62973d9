/**
 * @module `model download`: fetch a model into the models directory, verified, indexed, its source
 * recorded. A URL the index already has a present file for is not fetched again; an existing file
 * at the target path is never overwritten.
 */
import { createHash } from 'node:crypto'
import { rename, rm, rmdir, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { ComfydockError, redactSecrets } from '../errors'
import { pathExists, safeJoin } from '../fs'
import { downloadFile, filenameFromUrl, type DownloadInfo } from '../net'
import { startTask } from '../progress'
import type { OnProgress } from '../protocol'
import type { Workspace } from '../workspace'
import { claimSource, hostContext, type DownloadPlan } from './hosts'
import { ModelIndex } from './model-index'
import { KNOWN_MODEL_FOLDERS } from './model-files'
import { shortHashWithSize } from './short-hash'
import { toRelPath, type IndexedModel } from './types'

export interface DownloadRequest {
  url: string
  /** Model folder ("loras"); the file keeps its own name inside it. */
  folder?: string
  /** Full relative path under the models dir ("loras/styles/x.safetensors"); wins over folder. */
  relPath?: string
  /** Short hash, or a full SHA-256 / BLAKE3 (`sha256:`/`blake3:` prefixes allowed). */
  expectedHash?: string
}

export interface DownloadModelOptions {
  onProgress?: OnProgress
  /** Progress op id of a parent task. */
  parent?: string
  signal?: AbortSignal
  retries?: number
  backoffMs?: number
  /** Asked when neither the request nor the host says which model folder a file goes in (interactive use). */
  chooseFolder?: (filename: string, folders: string[]) => Promise<string | undefined>
}

export interface DownloadedModel extends IndexedModel {
  /** False when the index already had this URL's file and nothing was fetched. */
  downloaded: boolean
  relPath: string
  /** False when no hash was known to check the download against (only its length was checked). */
  verified: boolean
}

export async function downloadModel (ws: Workspace, req: DownloadRequest, opts: DownloadModelOptions = {}): Promise<DownloadedModel> {
  const modelsDir = ws.modelsDir
  if (req.relPath) safeJoin(modelsDir, toRelPath(req.relPath), 'model path') // refuse before any request
  const ctx = await hostContext(ws, { signal: opts.signal })
  const claim = claimSource(req.url, ctx)
  const index = ModelIndex.open(ws)
  try {
    // Checked before any request: a URL whose file is here costs nothing.
    const early = claim.sourceUrl
    const knownEarly = early ? await alreadyDownloaded(index, early) : undefined
    if (knownEarly) return knownEarly
    const plan = await claim.plan(ctx)
    const known = early === plan.sourceUrl ? undefined : await alreadyDownloaded(index, plan.sourceUrl)
    if (known) return known
    const expected = parseExpected(req.expectedHash)
    // The host told us the content's SHA-256 and that content is already here: record the source only.
    const same = await presentWithSha256(index, expected.sha256 ?? plan.expectedSha256)
    if (same) {
      index.addSource(same.hash, { type: plan.host, url: plan.sourceUrl })
      return { ...index.get(same.hash)!, downloaded: false, relPath: same.relPath, verified: true }
    }

    const parts = join(modelsDir, '.comfydock-downloads')
    const key = createHash('sha256').update(plan.downloadUrl).digest('hex').slice(0, 24)
    let relPath: string | undefined
    const chooseDest = async (info: DownloadInfo): Promise<string> => {
      relPath = await targetRelPath(req, plan, info, opts.chooseFolder)
      const final = safeJoin(modelsDir, relPath, 'model path')
      await refuseExisting(final, relPath)
      return join(dirname(final), `.${basename(final)}.${key.slice(0, 8)}.verifying`)
    }
    const partFile = join(parts, `${key}.part`)
    const result = await downloadFile(plan.downloadUrl, chooseDest, {
      headers: plan.headers,
      expectedSha256: expected.sha256 ?? plan.expectedSha256,
      expectedBlake3: expected.blake3,
      partFile,
      onProgress: opts.onProgress,
      parent: opts.parent,
      signal: opts.signal,
      retries: opts.retries,
      backoffMs: opts.backoffMs,
      label: `download ${plan.filename ?? (req.relPath ? basename(req.relPath) : undefined) ?? filenameFromUrl(plan.sourceUrl) ?? redactSecrets(plan.sourceUrl)}`,
    }).catch(async err => {
      // Ctrl-C leaves the models folder as it was: no partial file kept for a resume the user did not ask for
      if (err instanceof ComfydockError && err.code === 'CANCELLED') await removePart(partFile)
      throw withHostHint(err, claim.host.authHint)
    })
    const staged = result.path
    const rel = relPath!
    const final = safeJoin(modelsDir, rel, 'model path')
    try {
      const { hash, size } = await shortHashWithSize(staged)
      const either = expected.either
      if ((expected.short && expected.short !== hash) || (either && either !== result.sha256 && either !== result.blake3)) {
        throw new ComfydockError('MODEL_HASH_MISMATCH', `${redactSecrets(req.url)} is not the expected model: expected ${req.expectedHash}, got short hash ${hash} (sha256 ${result.sha256})`, {
          hint: 'The file was discarded. Check the URL, or run `comfydock model find-source <hash>` to look for another source.',
        })
      }
      const verified = result.verified || Boolean(expected.short || either)
      await refuseExisting(final, rel)
      await rename(staged, final)
      const mtime = (await stat(final)).mtimeMs
      index.db.transaction(() => {
        index.upsertModel(hash, size, { blake3: result.blake3, sha256: result.sha256 })
        index.upsertLocation(hash, modelsDir, rel, size, mtime)
        index.addSource(hash, { type: plan.host, url: plan.sourceUrl }, { ...plan.metadata, ...(verified ? {} : { unverified: true }) })
      })()
      return { ...index.get(hash)!, downloaded: true, relPath: rel, verified }
    } catch (err) {
      await rm(staged, { force: true })
      throw err
    }
  } finally {
    index.close()
  }
}

async function removePart (partFile: string): Promise<void> {
  await rm(partFile, { force: true })
  await rm(`${partFile}.validator`, { force: true })
  await rmdir(dirname(partFile)).catch(() => { /* other downloads' parts are still there */ })
}

/** Several downloads at once (each with its own progress); one failing does not stop the others. */
export async function downloadModels (ws: Workspace, reqs: DownloadRequest[], opts: DownloadModelOptions & { concurrency?: number } = {}): Promise<Array<{ request: DownloadRequest, model?: DownloadedModel, error?: unknown }>> {
  const task = startTask(opts.onProgress, `download ${reqs.length} model${reqs.length === 1 ? '' : 's'}`, { total: reqs.length, unit: 'items' })
  const out: Array<{ request: DownloadRequest, model?: DownloadedModel, error?: unknown }> = reqs.map(request => ({ request }))
  let next = 0
  let done = 0
  const worker = async (): Promise<void> => {
    while (next < reqs.length) {
      const i = next++
      try {
        out[i].model = await downloadModel(ws, reqs[i], { ...opts, parent: task.id })
      } catch (err) {
        out[i].error = err
      }
      task.advance(++done)
    }
  }
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 3, reqs.length) }, worker))
  task.end(out.some(o => o.error) ? 'failed' : 'ok')
  return out
}

/** A 401/403 names the fix for the host that refused, not for every host there is. */
function withHostHint (err: unknown, hint: string): unknown {
  if (err instanceof ComfydockError && err.code === 'DOWNLOAD_AUTH_REQUIRED') return new ComfydockError(err.code, err.message, { hint, cause: err })
  return err
}

async function targetRelPath (req: DownloadRequest, plan: DownloadPlan, info: DownloadInfo, chooseFolder?: DownloadModelOptions['chooseFolder']): Promise<string> {
  if (req.relPath) return toRelPath(req.relPath)
  const name = plan.filename ?? info.filename
  const folder = req.folder ?? plan.folder ?? (name && chooseFolder ? await chooseFolder(name, [...KNOWN_MODEL_FOLDERS]) : undefined)
  if (!name) {
    throw new ComfydockError('INVALID_ARGUMENT', `cannot tell a file name for ${redactSecrets(req.url)}`, { hint: 'Pass one: `--path loras/name.safetensors`.' })
  }
  if (!folder) {
    throw new ComfydockError('INVALID_ARGUMENT', `cannot tell which model folder ${name} belongs in`, {
      hint: `Pass \`--category FOLDER\` (checkpoints, loras, vae, …) or \`--path FOLDER/${name}\`.`,
    })
  }
  return `${toRelPath(folder).replace(/\/$/, '')}/${name}`
}

async function refuseExisting (file: string, rel: string): Promise<void> {
  if (await pathExists(file)) {
    throw new ComfydockError('INVALID_ARGUMENT', `${rel} already exists in the models directory`, {
      hint: 'Choose another name with `--path`, or remove the file first; run `comfydock model index sync` to index it.',
    })
  }
}

/** The index has this URL as the source of a file that is still there: return it, fetch nothing. */
async function alreadyDownloaded (index: ModelIndex, sourceUrl: string): Promise<DownloadedModel | undefined> {
  for (const m of index.findBySourceUrl(sourceUrl)) {
    for (const loc of m.locations) {
      const s = await stat(join(loc.baseDir, loc.relPath)).catch(() => undefined)
      if (s && s.size === m.size) return { ...m, downloaded: false, relPath: loc.relPath, verified: !m.sources.find(x => x.url === sourceUrl)?.unverified }
    }
  }
  return undefined
}

async function presentWithSha256 (index: ModelIndex, sha256?: string): Promise<DownloadedModel | undefined> {
  if (!sha256) return undefined
  const m = index.findByHash(`sha256:${sha256}`).find(x => x.sha256 === sha256)
  for (const loc of m?.locations ?? []) {
    const s = await stat(join(loc.baseDir, loc.relPath)).catch(() => undefined)
    if (s && s.size === m!.size) return { ...m!, downloaded: false, relPath: loc.relPath, verified: true }
  }
  return undefined
}

function parseExpected (hash?: string): { short?: string, sha256?: string, blake3?: string, either?: string } {
  if (!hash) return {}
  const h = hash.trim().toLowerCase()
  if (/^sha256:[0-9a-f]{64}$/.test(h)) return { sha256: h.slice(7) }
  if (/^blake3:[0-9a-f]{64}$/.test(h)) return { blake3: h.slice(7) }
  if (/^[0-9a-f]{16}$/.test(h)) return { short: h }
  if (/^[0-9a-f]{64}$/.test(h)) return { either: h }
  throw new ComfydockError('INVALID_ARGUMENT', `"${hash}" is not a model hash`, {
    hint: 'Use a 16-hex short hash, or a 64-hex SHA-256/BLAKE3 (optionally prefixed sha256: or blake3:).',
  })
}

