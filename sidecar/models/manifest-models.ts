/**
 * @module The environment's model table: `[tool.comfydock.models]` keyed by short hash (filename,
 * size, relative path, category, criticality, full hashes, source URLs), and workflow model lists.
 * Local state comes from the index: present, missing with sources, missing without sources.
 */
import { ComfydockError } from '../errors'
import { readManifest, withManifestTransaction, writeManifest, type Criticality, type ModelEntry, type Pyproject, type WorkflowModelEntry } from '../manifest'
import type { OnProgress } from '../protocol'
import type { EnvPaths, Workspace } from '../workspace'
import { downloadModel } from './download-model'
import { defaultCriticality } from './model-files'
import { ModelIndex } from './model-index'
import { findModels, onlyMatch } from './resolve-model'
import { folderOf, markUnverified, type IndexedModel } from './types'

/** other-bytes: the committed model is not here, but a file with other bytes is at its path. */
export type ModelState = 'present' | 'missing' | 'missing-no-source' | 'other-bytes'

export interface ManifestModel {
  /** Absent for a model a workflow names that no file has matched yet (unresolved, so missing). */
  hash?: string
  filename: string
  category?: string
  relativePath?: string
  size: number
  criticality: Criticality
  sources: string[]
  workflows: string[]
  state: ModelState
  /** Where it is on this machine, when present. */
  localPath?: string
}

export interface AddModelOptions {
  optional?: boolean
  criticality?: Criticality
  workflow?: string
  /** Model folder for a URL that does not say (direct links). */
  folder?: string
  /** Picks one when a name matches several models (interactive use); without it that is MODEL_AMBIGUOUS. */
  choose?: (question: string, candidates: IndexedModel[]) => Promise<IndexedModel | undefined>
  chooseFolder?: (filename: string, folders: string[]) => Promise<string | undefined>
  onProgress?: OnProgress
  signal?: AbortSignal
}

const isUrl = (s: string): boolean => /^https?:\/\//i.test(s) || s.startsWith('hf:')

/** Adds a model (by hash, name or URL) to the manifest; a URL not yet in the index is downloaded first. */
export async function addModelToManifest (ws: Workspace, env: EnvPaths, spec: string, opts: AddModelOptions = {}): Promise<ManifestModel> {
  let model: IndexedModel
  if (isUrl(spec)) {
    model = await downloadModel(ws, { url: spec, folder: opts.folder }, { onProgress: opts.onProgress, signal: opts.signal, chooseFolder: opts.chooseFolder })
  } else {
    const index = ModelIndex.open(ws)
    let found: IndexedModel[]
    try { found = findModels(index, spec) } finally { index.close() }
    const picked = found.length > 1 && opts.choose ? await opts.choose(`"${spec}" matches ${found.length} models; which one?`, found) : undefined
    model = picked ?? onlyMatch(spec, found)
  }
  const loc = model.locations[0]
  if (!loc) throw new ComfydockError('MODEL_NOT_FOUND', `model ${model.hash} has no file on this machine`, { hint: 'Run `comfydock model index sync`.' })
  const category = folderOf(loc.relPath) || undefined
  const criticality: Criticality = opts.optional ? 'optional' : opts.criticality ?? defaultCriticality(category ?? '')
  await withManifestTransaction(env.pyproject, async (doc) => {
    const models = doc.tool.comfydock.models ??= {}
    const prev = models[model.hash]
    const sources = [...new Set([...(prev?.sources ?? []), ...model.sources.map(s => s.url)])]
    const entry: ModelEntry = {
      filename: loc.relPath.split('/').pop()!,
      size: model.size,
      relative_path: loc.relPath,
      ...(category ? { category } : {}),
      criticality,
      ...(model.blake3 ? { blake3: model.blake3 } : {}),
      ...(model.sha256 ? { sha256: model.sha256 } : {}),
      ...(sources.length ? { sources } : {}),
    }
    models[model.hash] = markUnverified({ ...prev, ...entry }, model)
    if (opts.workflow) addToWorkflow(doc, opts.workflow, model.hash, entry, criticality)
    await writeManifest(env.pyproject, doc)
  })
  return (await listManifestModels(ws, env)).find(m => m.hash === model.hash)!
}

function addToWorkflow (doc: Pyproject, name: string, hash: string, entry: ModelEntry, criticality: Criticality): void {
  const wf = doc.tool.comfydock.workflows?.[name]
  if (!wf) {
    const known = Object.keys(doc.tool.comfydock.workflows ?? {})
    throw new ComfydockError('WORKFLOW_NOT_TRACKED', `workflow "${name}" is not tracked in this environment${known.length ? ` (tracked: ${known.join(', ')})` : ''}`, {
      hint: 'Track it first with `comfydock workflow track <name>`.',
    })
  }
  const list = wf.models ??= []
  const existing = list.find(m => m.hash === hash)
  if (existing) { existing.criticality = criticality; return }
  const ref: WorkflowModelEntry = {
    filename: entry.filename, category: entry.category ?? '', criticality, status: 'resolved', nodes: [], hash,
    ...(entry.sources ? { sources: entry.sources } : {}), relative_path: entry.relative_path,
  }
  list.push(ref)
}

/** Removes a model from the global table, or with `workflow` only from that workflow's list. */
export async function removeModelFromManifest (env: EnvPaths, spec: string, opts: { workflow?: string } = {}): Promise<{ hash: string, filename: string }> {
  return withManifestTransaction(env.pyproject, async (doc) => {
    const models = doc.tool.comfydock.models ?? {}
    const hash = findInManifest(models, spec)
    const workflows = doc.tool.comfydock.workflows ?? {}
    const filename = models[hash].filename
    if (opts.workflow) {
      const wf = workflows[opts.workflow]
      if (!wf?.models?.some(m => m.hash === hash)) {
        throw new ComfydockError('INVALID_ARGUMENT', `workflow "${opts.workflow}" does not use model ${hash} (${filename})`, { hint: 'See `comfydock model list`.' })
      }
      wf.models = wf.models.filter(m => m.hash !== hash)
    } else {
      const users = Object.entries(workflows).filter(([, w]) => w.models?.some(m => m.hash === hash)).map(([n]) => n)
      if (users.length > 0) {
        throw new ComfydockError('INVALID_ARGUMENT', `model ${hash} (${filename}) is used by workflow${users.length > 1 ? 's' : ''} ${users.join(', ')}`, {
          hint: `Remove it from each first: \`comfydock model remove ${hash} --workflow ${users[0]}\`.`,
        })
      }
      delete models[hash]
    }
    await writeManifest(env.pyproject, doc)
    return { hash, filename }
  })
}

function findInManifest (models: Record<string, ModelEntry>, spec: string): string {
  const q = spec.trim().toLowerCase()
  const matches = Object.entries(models).filter(([h, m]) =>
    h.startsWith(q) || m.filename.toLowerCase() === q || m.relative_path?.toLowerCase() === q ||
    (q.length >= 16 && (m.sha256 === q || m.blake3 === q)))
  if (matches.length === 1) return matches[0][0]
  if (matches.length === 0) {
    throw new ComfydockError('MODEL_NOT_FOUND', `no model "${spec}" in this environment's manifest`, { hint: 'See `comfydock model list`.' })
  }
  throw new ComfydockError('MODEL_AMBIGUOUS', `"${spec}" matches ${matches.map(([h, m]) => `${h} (${m.filename})`).join(', ')}`, { hint: 'Pass the short hash.' })
}

/** Every model the manifest names (global table and workflow lists), with its local state. */
export async function listManifestModels (ws: Workspace, env: EnvPaths): Promise<ManifestModel[]> {
  const doc = await readManifest(env.pyproject)
  const table = doc.tool.comfydock.models ?? {}
  const out = new Map<string, ManifestModel>()
  const rank: Record<Criticality, number> = { optional: 0, flexible: 1, required: 2 }
  for (const [hash, m] of Object.entries(table)) {
    out.set(hash, {
      hash, filename: m.filename, category: m.category, relativePath: m.relative_path, size: m.size,
      criticality: m.criticality ?? defaultCriticality(m.category ?? ''),
      sources: m.sources ?? [], workflows: [], state: 'missing-no-source',
    })
  }
  for (const [name, wf] of Object.entries(doc.tool.comfydock.workflows ?? {})) {
    for (const ref of wf.models ?? []) {
      // an unresolved reference is a model the workflow needs and this machine lacks: listed, keyed by its folder and name
      const key = ref.hash ?? `unresolved:${ref.category}/${ref.filename}`
      const cur = out.get(key) ?? {
        ...(ref.hash ? { hash: ref.hash } : {}), filename: ref.filename, category: ref.category, relativePath: ref.relative_path, size: 0,
        criticality: ref.criticality, sources: [], workflows: [], state: 'missing-no-source' as ModelState,
      }
      if (!cur.workflows.includes(name)) cur.workflows.push(name)
      cur.sources = [...new Set([...cur.sources, ...(ref.sources ?? [])])]
      // Used by several workflows: the highest criticality wins.
      if (rank[ref.criticality] > rank[cur.criticality]) cur.criticality = ref.criticality
      out.set(key, cur)
    }
  }
  const index = ModelIndex.open(ws)
  try {
    for (const m of out.values()) {
      const local = m.hash ? index.get(m.hash) : undefined
      const loc = local?.locations[0]
      if (loc) {
        m.state = 'present'
        m.localPath = loc.relPath
      } else {
        m.sources = [...new Set([...m.sources, ...(local?.sources ?? []).map(s => s.url)])]
        const other = m.hash && m.relativePath ? index.findByPath(m.relativePath).find(x => x.hash !== m.hash) : undefined
        if (other) m.localPath = m.relativePath
        m.state = other ? 'other-bytes' : m.sources.length > 0 ? 'missing' : 'missing-no-source'
      }
    }
  } finally {
    index.close()
  }
  return [...out.values()].sort((a, b) => a.filename.localeCompare(b.filename))
}

export interface ModelStatus {
  total: number
  present: number
  /** Missing here, and a source is known: `comfydock repair` / `model download` can fetch them. */
  missing: ManifestModel[]
  /** Missing here with no known source. */
  missingNoSource: ManifestModel[]
}

/** For `status`: which of the environment's models are not on this machine. */
export async function getModelStatus (ws: Workspace, env: EnvPaths): Promise<ModelStatus> {
  const all = await listManifestModels(ws, env)
  return {
    total: all.length,
    present: all.filter(m => m.state === 'present').length,
    missing: all.filter(m => m.state === 'missing'),
    missingNoSource: all.filter(m => m.state === 'missing-no-source'),
  }
}
