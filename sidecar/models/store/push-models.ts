/**
 * @module `model push`: local model files into the team's store, keyed by SHA-256. What the store has
 * already is skipped (no upload, whoever put it there); each pushed model gets the store as a source in
 * the index, and the caller records it in the manifest. Transfers run in parallel up to `model_transfers`.
 */
import { join } from 'node:path'
import { ComfydockError, toErrorPayload } from '../../errors'
import { startTask } from '../../progress'
import type { ErrorPayload, OnProgress } from '../../protocol'
import type { Workspace } from '../../workspace'
import { ensureFullHashes } from '../full-hashes'
import { hostContext } from '../hosts'
import { ModelIndex } from '../model-index'
import type { IndexedModel } from '../types'
import { openStore } from './open-store'
import { Slots } from './slots'
import { objectKey, storeSourceUrl } from './store-config'
import { uploadObject } from './upload-object'
import { transferLimit } from './transfer-limit'

export interface PushedModel {
  hash: string
  filename: string
  sha256: string
  size: number
  /** `s3://bucket/prefix/<sha256>`, recorded as a source. */
  source: string
}

export interface PushOutcome {
  store: string
  uploaded: PushedModel[]
  /** Already in the store: nothing sent. */
  present: PushedModel[]
  failed: Array<{ hash: string, filename: string, error: ErrorPayload }>
}

export interface PushOptions {
  onProgress?: OnProgress
  signal?: AbortSignal
  /** Bytes per part of a multipart upload. */
  partSize?: number
}

export async function pushModels (ws: Workspace, models: IndexedModel[], opts: PushOptions = {}): Promise<PushOutcome> {
  const ctx = await hostContext(ws, { signal: opts.signal })
  const { client, location } = await openStore(ctx)
  if (!location) {
    throw new ComfydockError('MODEL_STORE_NOT_CONFIGURED', 'no model store is configured', { hint: 'Set one: `comfydock config model_store s3://<bucket>/<prefix>`.' })
  }
  const out: PushOutcome = { store: `s3://${location.bucket}${location.prefix ? `/${location.prefix}` : ''}`, uploaded: [], present: [], failed: [] }
  const slots = new Slots(transferLimit(ctx))
  const task = startTask(opts.onProgress, `push ${models.length} model${models.length === 1 ? '' : 's'} to ${out.store}`, { total: models.length, unit: 'items' })
  let done = 0
  const index = ModelIndex.open(ws)
  try {
    await Promise.all(models.map(async (m) => {
      const filename = m.locations[0]?.relPath.split('/').pop() ?? m.hash
      try {
        const full = await ensureFullHashes(index, m, { signal: opts.signal, onProgress: opts.onProgress })
        const sha256 = full.sha256!
        const key = objectKey(location, sha256)
        const pushed: PushedModel = { hash: m.hash, filename, sha256, size: m.size, source: storeSourceUrl(location, sha256) }
        const there = await client.head(location.bucket, key, opts.signal)
        if (there && there.size === m.size) {
          out.present.push(pushed)
        } else {
          const loc = m.locations[0]
          const child = startTask(opts.onProgress, `upload ${filename}`, { total: m.size, unit: 'bytes' }, task.id)
          try {
            await uploadObject(client, location.bucket, key, join(loc.baseDir, loc.relPath), m.size, sha256, { slots, task: child, signal: opts.signal, partSize: opts.partSize })
            child.end('ok')
          } catch (err) {
            child.end('failed', (err as Error).message)
            throw err
          }
          out.uploaded.push(pushed)
        }
        index.addSource(m.hash, { type: 'store', url: pushed.source })
      } catch (err) {
        // Wrong credentials or a missing bucket fail every model alike: say it once, as the command's error.
        const code = (err as { code?: string }).code
        if (code === 'MODEL_STORE_AUTH_FAILED' || code === 'CANCELLED' || opts.signal?.aborted) throw err
        out.failed.push({ hash: m.hash, filename, error: toErrorPayload(err) })
      } finally {
        task.advance(++done)
      }
    }))
    task.end(out.failed.length ? 'failed' : 'ok')
  } catch (err) {
    task.end('failed')
    throw err
  } finally {
    index.close()
  }
  return out
}
