/**
 * @module Makes custom_nodes match pyproject.toml: every tracked pack whose folder is absent or at
 * another version is installed exactly as pinned (cache first, sha256 checked). pyproject.toml is not
 * changed and Python is not synced here: callers (bundle import, repair) sync once afterwards.
 */
import { rm } from 'node:fs/promises'
import { ComfydockError, toErrorPayload } from '../../errors'
import { readManifest } from '../../manifest'
import { withTask } from '../../progress'
import { packDir, type EnvPaths, type Workspace } from '../../workspace'
import { assertNoLocalWork } from '../local-work'
import { trackedPacks } from '../pack-manifest'
import { materializePin, pinFromEntry } from '../sources'
import type { BatchResult, NodeItemResult } from './add-nodes'
import { moveIntoPlace, openNodeContext, stagingDir, type NodeOperationOptions } from './node-context'
import { getNodeStatus } from './node-status'

export async function installMissingNodes (ws: Workspace, env: EnvPaths, opts: NodeOperationOptions = {}): Promise<BatchResult> {
  const ctx = openNodeContext(ws, env, opts)
  const doc = await readManifest(env.pyproject)
  const status = await getNodeStatus(ws, env)
  const todo = [...status.missing, ...status.mismatched.map(m => m.id)]
  const results: NodeItemResult[] = []
  for (const id of todo) {
    const entry = trackedPacks(doc)[id]
    try {
      const pin = pinFromEntry(id, entry)
      if (pin.kind === 'dev') {
        throw new ComfydockError('NODE_INSTALL_FAILED', `development node ${id} is not in ${env.customNodes}`, {
          hint: `Copy its folder to ${packDir(env, entry.name)}, or stop tracking it with \`comfydock node remove ${id}\`.`,
        })
      }
      const dest = packDir(env, entry.name)
      const staging = await stagingDir(env, entry.name, 'new')
      await rm(staging, { recursive: true, force: true })
      await assertNoLocalWork(dest, ctx.stores.git, entry.repository, 'replacing',
        `Commit and push your changes to ${entry.repository ?? 'the repository'} (then \`comfydock node update ${id}\`), or move the folder away.`)
      const mat = await withTask(opts.onProgress, `install ${id}`, {}, () => materializePin(pin, staging, ctx.stores, opts))
      // Only a fully fetched pack replaces what is there (a mismatched version).
      await rm(dest, { recursive: true, force: true })
      await moveIntoPlace(staging, dest)
      results.push({ spec: id, ok: true, id, entry, cached: mat.cached })
    } catch (err) {
      if (err instanceof ComfydockError && err.code === 'CANCELLED') throw err
      results.push({ spec: id, ok: false, id, error: toErrorPayload(err) })
    }
  }
  return { results, ok: results.every(r => r.ok), warnings: ctx.warnings }
}
