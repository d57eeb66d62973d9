/**
 * @module The semantic merge of two versions of an environment against their common ancestor. Nothing
 * here merges lines: the manifest merges table by table (packs, workflows and models by key; Python
 * requirements as sets of packages), workflow snapshots as whole documents, other files as whole
 * files. Packs, workflows and models either side added are kept (a union); something both sides
 * changed differently is a conflict with both sides, and a choice (mine, theirs, or for a workflow
 * both, the other under a second name) settles it. The result is always a whole, valid manifest.
 */
import type { ComfydockTable, ModelEntry, NodeEntry, Pyproject, WorkflowEntry } from '../../manifest'
import { packGroupName } from '../../nodes'
import { comparableWorkflow, strongest } from '../../workflows'
import { type CecSnapshot, MANIFEST_FILE, workflowFile } from './snapshot'
import { keysOf, mergeRequirements, threeWay, type Side } from './three-way'

export type Choice = Side | 'both'

export interface ConflictSide {
  /** One line for people: "8.1.0 (registry)", "removed", "changed". */
  summary: string
  /** The value itself, for --json and the panel. */
  value: unknown
}

export interface Conflict {
  /** Stable id to answer with: `node:<id>`, `workflow:<name>`, `comfyui`, `python`, `requirement:<name>`, `setting:<key>`, `file:<path>`. */
  id: string
  kind: 'node' | 'workflow' | 'comfyui' | 'python' | 'requirement' | 'setting' | 'file'
  label: string
  mine: ConflictSide
  theirs: ConflictSide
  choices: Choice[]
}

export type Resolver = Record<string, Choice> | ((conflict: Conflict) => Choice | undefined)

export interface MergeOutcome {
  conflicts: Conflict[]
  /** Conflict ids no choice was given for; the result is only there when this is empty. */
  unresolved: string[]
  result?: CecSnapshot
  /** Things decided on the way that the user should hear about ("kept both: portrait (theirs)"). */
  notes: string[]
}

const REMOVED: ConflictSide = { summary: 'removed', value: null }

function nodeSummary (e: NodeEntry | undefined): ConflictSide {
  if (!e) return REMOVED
  const v = /^[0-9a-f]{40}$/.test(e.version) ? e.version.slice(0, 12) : e.version
  return { summary: `${v} (${e.source})`, value: e }
}

const changedSummary = (v: unknown, what = 'changed'): ConflictSide => (v === undefined ? REMOVED : { summary: what, value: v })
const valueSummary = (v: unknown): ConflictSide => (v === undefined ? REMOVED : { summary: typeof v === 'string' ? v : JSON.stringify(v), value: v })

/** Collects conflicts and answers: a conflict with a choice is applied at once, else it stays open. */
class Decisions {
  readonly conflicts: Conflict[] = []
  readonly unresolved: string[] = []
  readonly notes: string[] = []
  constructor (private readonly resolver: Resolver) {}

  decide (c: Conflict): Choice | undefined {
    this.conflicts.push(c)
    const pick = typeof this.resolver === 'function' ? this.resolver(c) : this.resolver[c.id]
    if (pick && c.choices.includes(pick)) return pick
    this.unresolved.push(c.id)
    return undefined
  }
}

const pickSide = <T>(choice: Choice | undefined, mine: T, theirs: T): T => (choice === 'theirs' ? theirs : mine)

/** A name for theirs' copy of a workflow kept beside mine: "portrait (theirs)", then "(theirs 2)" … */
function secondName (name: string, taken: (n: string) => boolean): string {
  for (let i = 1; ; i++) {
    const n = i === 1 ? `${name} (theirs)` : `${name} (theirs ${i})`
    if (!taken(n)) return n
  }
}

interface Tables { base: Pyproject, mine: Pyproject, theirs: Pyproject }

function mergeNodes (t: Tables, out: Pyproject, d: Decisions): void {
  const get = (doc: Pyproject): Record<string, NodeEntry> => doc.tool.comfydock.nodes ?? {}
  const groupsOf = (doc: Pyproject): Record<string, string[]> => doc['dependency-groups'] ?? {}
  const nodes: Record<string, NodeEntry> = {}
  // Groups that belong to a pack follow the pack: the side that wins the pack brings its requirements.
  const packGroups = new Map<string, string[] | undefined>()
  const owned = new Set<string>()
  for (const doc of [t.base, t.mine, t.theirs]) for (const [id, e] of Object.entries(get(doc))) owned.add(packGroupName(id, e))
  for (const id of keysOf(get(t.mine), get(t.theirs), get(t.base))) {
    const [b, m, th] = [get(t.base)[id], get(t.mine)[id], get(t.theirs)[id]]
    const r = threeWay(b, m, th)
    let side: Side
    if (r.merged) {
      side = r.from === 'theirs' ? 'theirs' : 'mine'
    } else {
      const choice = d.decide({ id: `node:${id}`, kind: 'node', label: `pack ${id}`, mine: nodeSummary(m), theirs: nodeSummary(th), choices: ['mine', 'theirs'] })
      side = pickSide(choice, 'mine', 'theirs')
    }
    const doc = side === 'mine' ? t.mine : t.theirs
    const entry = get(doc)[id]
    if (entry) {
      nodes[id] = entry
      const group = packGroupName(id, entry)
      packGroups.set(group, groupsOf(doc)[group])
    }
  }
  out.tool.comfydock.nodes = nodes
  // Other groups (the user's own) merge as requirement sets.
  const groups: Record<string, string[]> = {}
  for (const [name, reqs] of packGroups) if (reqs) groups[name] = reqs
  for (const name of keysOf(groupsOf(t.mine), groupsOf(t.theirs), groupsOf(t.base))) {
    if (owned.has(name)) continue
    const r = mergeRequirements(groupsOf(t.base)[name], groupsOf(t.mine)[name], groupsOf(t.theirs)[name])
    if (r.merged) {
      if (groupsOf(t.mine)[name] !== undefined || groupsOf(t.theirs)[name] !== undefined) {
        if (!(r.value.length === 0 && (groupsOf(t.mine)[name] === undefined || groupsOf(t.theirs)[name] === undefined))) groups[name] = r.value
      }
      continue
    }
    const choice = d.decide({ id: `requirement:group:${name}`, kind: 'requirement', label: `Python dependency group ${name}`, mine: valueSummary(r.mine), theirs: valueSummary(r.theirs), choices: ['mine', 'theirs'] })
    const v = pickSide(choice, r.mine, r.theirs)
    if (v) groups[name] = v
  }
  out['dependency-groups'] = groups
}

function mergeModels (t: Tables, out: Pyproject, d: Decisions): void {
  const get = (doc: Pyproject): Record<string, ModelEntry> => doc.tool.comfydock.models ?? {}
  const models: Record<string, ModelEntry> = {}
  for (const hash of keysOf(get(t.mine), get(t.theirs), get(t.base))) {
    const [b, m, th] = [get(t.base)[hash], get(t.mine)[hash], get(t.theirs)[hash]]
    const r = threeWay(b, m, th)
    if (r.merged) { if (r.value) models[hash] = r.value; continue }
    // The same bytes (key = content hash), so never a conflict: a side that still names the model keeps
    // it, sources add up, the stronger need wins, and for anything else this machine's record stays.
    if (!m || !th) { models[hash] = (m ?? th)!; continue }
    const merged: ModelEntry = { ...th, ...m }
    const sources = [...new Set([...(m.sources ?? []), ...(th.sources ?? [])])]
    if (sources.length) merged.sources = sources
    if (m.criticality && th.criticality) merged.criticality = strongest(m.criticality, th.criticality)
    models[hash] = merged
  }
  out.tool.comfydock.models = models
  void d
}

function mergeWorkflows (t: Tables, files: { base: Record<string, string>, mine: Record<string, string>, theirs: Record<string, string> }, out: CecSnapshot, d: Decisions): void {
  const get = (doc: Pyproject): Record<string, WorkflowEntry> => doc.tool.comfydock.workflows ?? {}
  const workflows: Record<string, WorkflowEntry> = {}
  const version = (doc: Pyproject, f: Record<string, string>, name: string): { entry: WorkflowEntry, file: string | undefined } | undefined => {
    const entry = get(doc)[name]
    return entry ? { entry, file: f[workflowFile(name, entry)] } : undefined
  }
  const names = keysOf(get(t.mine), get(t.theirs), get(t.base))
  const taken = (n: string): boolean => names.includes(n) || n in workflows
  const put = (name: string, v: { entry: WorkflowEntry, file: string | undefined }): void => {
    workflows[name] = v.entry
    if (v.file !== undefined) out.files[workflowFile(name, v.entry)] = v.file
  }
  for (const name of names) {
    const b = version(t.base, files.base, name)
    const m = version(t.mine, files.mine, name)
    const th = version(t.theirs, files.theirs, name)
    // Compared without UI-only noise (canvas offset, selection): a moved canvas is no change.
    const r = threeWay(comparable(b), comparable(m), comparable(th))
    if (r.merged) {
      const v = r.from === 'theirs' ? th : m
      if (v) put(name, v)
      continue
    }
    const choice = d.decide({
      id: `workflow:${name}`, kind: 'workflow', label: `workflow ${name}`,
      mine: changedSummary(m, b ? 'changed' : 'added'), theirs: changedSummary(th, b ? 'changed' : 'added'),
      choices: m && th ? ['mine', 'theirs', 'both'] : ['mine', 'theirs'],
    })
    if (choice === 'both' && m && th) {
      put(name, m)
      const other = secondName(name, taken)
      put(other, { entry: { ...th.entry, path: `workflows/${other}.json` }, file: th.file })
      d.notes.push(`workflow ${name}: kept yours, and theirs as "${other}"`)
      continue
    }
    const v = pickSide(choice, m, th)
    if (v) put(name, v)
  }
  out.manifest.tool.comfydock.workflows = workflows
}

function comparable (v: { entry: WorkflowEntry, file: string | undefined } | undefined): unknown {
  if (!v) return undefined
  let file: string | undefined = v.file
  try { if (file !== undefined) file = comparableWorkflow(JSON.parse(file)) } catch { /* not JSON: compared as text */ }
  return { entry: v.entry, file }
}

const COMFYUI_KEYS = ['comfyui_version', 'comfyui_version_type', 'comfyui_commit_sha'] as const
const TABLE_KEYS = ['nodes', 'workflows', 'models']

function mergeComfydockScalars (t: Tables, out: Pyproject, d: Decisions): void {
  const c = (doc: Pyproject): ComfydockTable => doc.tool.comfydock
  const pickComfyui = (doc: Pyproject): Record<string, unknown> => Object.fromEntries(COMFYUI_KEYS.map(k => [k, c(doc)[k]]))
  const cu = threeWay(pickComfyui(t.base), pickComfyui(t.mine), pickComfyui(t.theirs))
  const label = (v: Record<string, unknown> | undefined): ConflictSide => ({ summary: `ComfyUI ${String(v?.comfyui_version ?? '?')}${v?.comfyui_commit_sha ? ` (${String(v.comfyui_commit_sha).slice(0, 12)})` : ''}`, value: v })
  const comfyui = cu.merged ? cu.value : pickSide(d.decide({ id: 'comfyui', kind: 'comfyui', label: 'ComfyUI version', mine: label(cu.mine), theirs: label(cu.theirs), choices: ['mine', 'theirs'] }), cu.mine, cu.theirs)
  Object.assign(out.tool.comfydock, comfyui)
  for (const key of keysOf(c(t.mine), c(t.theirs), c(t.base))) {
    if ((COMFYUI_KEYS as readonly string[]).includes(key) || TABLE_KEYS.includes(key)) continue
    const r = threeWay(c(t.base)[key], c(t.mine)[key], c(t.theirs)[key])
    const id = key === 'python_version' ? 'python' : `setting:tool.comfydock.${key}`
    const value = r.merged ? r.value : pickSide(d.decide({ id, kind: key === 'python_version' ? 'python' : 'setting', label: key === 'python_version' ? 'Python version' : key, mine: valueSummary(r.mine), theirs: valueSummary(r.theirs), choices: ['mine', 'theirs'] }), r.mine, r.theirs)
    if (value === undefined) delete out.tool.comfydock[key]
    else out.tool.comfydock[key] = value
  }
}

/** Every other key of a table, three-way per key (project metadata, [tool.uv], unknown tables). */
function mergeKeys (prefix: string, base: Record<string, unknown>, mine: Record<string, unknown>, theirs: Record<string, unknown>, skip: string[], d: Decisions): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const key of keysOf(mine, theirs, base)) {
    if (skip.includes(key)) continue
    const r = threeWay(base[key], mine[key], theirs[key])
    const value = r.merged ? r.value : pickSide(d.decide({ id: `setting:${prefix}${key}`, kind: 'setting', label: `${prefix}${key}`, mine: valueSummary(r.mine), theirs: valueSummary(r.theirs), choices: ['mine', 'theirs'] }), r.mine, r.theirs)
    if (value !== undefined) out[key] = value
  }
  return out
}

function mergeManifest (t: Tables, out: CecSnapshot, d: Decisions): void {
  const doc = out.manifest
  const project = mergeKeys('project.', t.base.project ?? {}, t.mine.project ?? {}, t.theirs.project ?? {}, ['dependencies'], d)
  const deps = mergeRequirements(t.base.project?.dependencies, t.mine.project?.dependencies, t.theirs.project?.dependencies)
  const dependencies = deps.merged
    ? deps.value
    : pickSide(d.decide({ id: 'requirement:project', kind: 'requirement', label: 'Python dependencies of the environment', mine: valueSummary(deps.mine), theirs: valueSummary(deps.theirs), choices: ['mine', 'theirs'] }), deps.mine, deps.theirs) ?? []
  doc.project = { ...(project as Pyproject['project']), dependencies }
  const toolRest = mergeKeys('tool.', t.base.tool ?? {}, t.mine.tool ?? {}, t.theirs.tool ?? {}, ['comfydock'], d)
  doc.tool = { ...toolRest, comfydock: {} }
  Object.assign(doc, mergeKeys('', t.base, t.mine, t.theirs, ['project', 'tool', 'dependency-groups'], d))
  mergeComfydockScalars(t, doc, d)
  mergeNodes(t, doc, d)
  mergeModels(t, doc, d)
}

/** Files that are neither the manifest nor a tracked workflow's snapshot: whole-file three-way. */
function mergeOtherFiles (base: CecSnapshot, mine: CecSnapshot, theirs: CecSnapshot, workflowPaths: Set<string>, out: CecSnapshot, d: Decisions): void {
  for (const path of keysOf(mine.files, theirs.files, base.files)) {
    if (path === MANIFEST_FILE || workflowPaths.has(path)) continue
    const r = threeWay(base.files[path], mine.files[path], theirs.files[path])
    let value: string | undefined
    if (r.merged) {
      value = r.value
    } else if (path === 'uv.lock') {
      // A lock is derived from the manifest: theirs is taken and re-resolved against the merged manifest on apply.
      value = r.theirs ?? r.mine
      d.notes.push('uv.lock changed on both sides: took theirs; the Python sync re-resolves it against the merged manifest')
    } else {
      value = pickSide(d.decide({ id: `file:${path}`, kind: 'file', label: `file ${path}`, mine: changedSummary(r.mine), theirs: changedSummary(r.theirs), choices: ['mine', 'theirs'] }), r.mine, r.theirs)
    }
    if (value !== undefined) out.files[path] = value
  }
}

/**
 * Merges `mine` and `theirs` (two versions of one environment's `.cec`) against `base`, their common
 * ancestor. Conflicts are answered by `resolve` (an id → choice table, or a function asked per
 * conflict); the result is there only when every conflict has an answer.
 */
export function mergeCec (base: CecSnapshot, mine: CecSnapshot, theirs: CecSnapshot, resolve: Resolver = {}): MergeOutcome {
  const d = new Decisions(resolve)
  const t = { base: base.manifest, mine: mine.manifest, theirs: theirs.manifest }
  const out: CecSnapshot = { manifest: { project: { name: '', version: '', dependencies: [] }, tool: { comfydock: {} } }, files: {} }
  mergeManifest(t, out, d)
  mergeWorkflows(t, { base: base.files, mine: mine.files, theirs: theirs.files }, out, d)
  const workflowPaths = new Set<string>()
  for (const s of [base, mine, theirs]) for (const [name, e] of Object.entries(s.manifest.tool.comfydock.workflows ?? {})) workflowPaths.add(workflowFile(name, e))
  mergeOtherFiles(base, mine, theirs, workflowPaths, out, d)
  return { conflicts: d.conflicts, unresolved: d.unresolved, notes: d.notes, ...(d.unresolved.length === 0 ? { result: out } : {}) }
}

