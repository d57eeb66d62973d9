/**
 * @module `model push`: the environment's models (one, or every one it needs that is on this machine)
 * into the team's store, and the store recorded as their first source in the manifest, so teammates'
 * imports, clones, pulls and repairs fetch them from there.
 */
import { ComfydockError } from '../errors'
import { readManifest, withManifestTransaction, writeManifest } from '../manifest'
import { ModelIndex, pushModels, resolveModel, type IndexedModel, type PushOptions, type PushOutcome } from '../models'
import type { EnvPaths, Workspace } from '../workspace'
import { collectModelNeeds } from './repair'

/** Every model the manifest needs whose file is here. */
async function neededHere (ws: Workspace, env: EnvPaths): Promise<{ models: IndexedModel[], missing: string[] }> {
  const needs = collectModelNeeds(await readManifest(env.pyproject))
  const index = ModelIndex.open(ws)
  try {
    const models: IndexedModel[] = []
    const missing: string[] = []
    for (const n of needs) {
      const m = n.hash ? index.get(n.hash) : undefined
      if (m?.locations.length) models.push(m)
      else missing.push(n.filename)
    }
    return { models, missing }
  } finally {
    index.close()
  }
}

export interface EnvironmentPushResult extends PushOutcome {
  /** Needed models that are not on this machine (nothing to upload). */
  notHere: string[]
  /** Models whose manifest entry now names the store. */
  recorded: string[]
}

export async function pushEnvironmentModels (ws: Workspace, env: EnvPaths, which: { model?: string, allNeeded?: boolean }, opts: PushOptions = {}): Promise<EnvironmentPushResult> {
  let models: IndexedModel[]
  let notHere: string[] = []
  if (which.model) {
    const index = ModelIndex.open(ws)
    try { models = [resolveModel(index, which.model)] } finally { index.close() }
    if (!models[0].locations.length) throw new ComfydockError('MODEL_NOT_FOUND', `model ${models[0].hash} has no file on this machine`, { hint: 'Run `comfydock model index sync`.' })
  } else if (which.allNeeded) {
    ({ models, missing: notHere } = await neededHere(ws, env))
  } else {
    throw new ComfydockError('USAGE', 'name a model or pass --all-needed', { hint: 'Run `comfydock model push <hash>` or `comfydock model push --all-needed`.' })
  }
  const out = await pushModels(ws, models, opts)
  const done = [...out.uploaded, ...out.present]
  const recorded: string[] = []
  if (done.length) {
    await withManifestTransaction(env.pyproject, async (doc) => {
      const table = doc.tool.comfydock.models ?? {}
      for (const p of done) {
        const entry = table[p.hash]
        if (!entry) continue
        // The store first: it is where teammates fetch from before any public host.
        entry.sources = [p.source, ...(entry.sources ?? []).filter(s => s !== p.source)]
        entry.sha256 ??= p.sha256
        recorded.push(p.hash)
      }
      if (recorded.length) await writeManifest(env.pyproject, doc)
    })
  }
  return { ...out, notHere, recorded }
}
