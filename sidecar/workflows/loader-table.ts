/**
 * @module Which widget of which node names a model file, and in which folder. Built-in knowledge comes from
 * the generated core table (real ComfyUI capture) plus the small table of newer core loaders; with a live
 * `/api/object_info` and `/api/models/<folder>` lists, ANY node's model inputs are found by matching its
 * COMBO option lists against the folder lists.
 */
import { CORE_LOADERS } from './data/core-loaders'
import { CORE_NODE_TYPES } from './data/core-nodes'
import { NEWER_CORE_NODE_TYPES } from './data/newer-core-nodes'
import { NEWER_LOADERS } from './data/newer-loaders'
import type { LoaderInput } from './loader-types'

export type { LoaderInput } from './loader-types'

/** What `/api/object_info` returns: node type → class info (only the fields used here are typed). */
export type ObjectInfo = Record<string, {
  input?: Record<string, Record<string, unknown[]> | undefined>
  input_order?: Record<string, string[] | undefined>
  python_module?: string
  [key: string]: unknown
}>

/** `/api/models/<folder>` lists by folder. */
export type ModelLists = Record<string, string[]>

const BUILTIN = new Map<string, LoaderInput[]>()
for (const row of [...CORE_LOADERS, ...NEWER_LOADERS]) {
  const rows = BUILTIN.get(row.type) ?? []
  rows.push(row)
  BUILTIN.set(row.type, rows)
}
const CORE = new Set<string>([...CORE_NODE_TYPES, ...NEWER_CORE_NODE_TYPES, ...NEWER_LOADERS.map(r => r.type)])

export function builtinLoaderInputs (type: string): readonly LoaderInput[] | undefined {
  return BUILTIN.get(type)
}

export function isBuiltinCoreType (type: string): boolean {
  return CORE.has(type)
}

const WIDGET_TYPES = new Set(['INT', 'FLOAT', 'STRING', 'BOOLEAN', 'COMBO'])

function comboOptions (spec: unknown[] | undefined): unknown[] | undefined {
  if (Array.isArray(spec?.[0])) return spec[0]
  const opts = spec?.[1] as { options?: unknown } | undefined
  if (spec?.[0] === 'COMBO' && Array.isArray(opts?.options)) return opts.options
  return undefined
}

/** Walks a class's widget inputs in order with their widget position (seed-like INTs carry an extra control value). */
export function widgetInputs (info: ObjectInfo[string]): Array<{ name: string, index: number, options?: unknown[] }> {
  const out: Array<{ name: string, index: number, options?: unknown[] }> = []
  let index = 0
  for (const group of ['required', 'optional']) {
    const specs = info.input?.[group] ?? {}
    for (const name of info.input_order?.[group] ?? Object.keys(specs)) {
      const spec = specs[name] as unknown[] | undefined
      const options = comboOptions(spec)
      if (options === undefined && !(typeof spec?.[0] === 'string' && WIDGET_TYPES.has(spec[0]))) continue
      out.push({ name, index, options })
      const extra = spec?.[0] === 'INT' && ((spec[1] as { control_after_generate?: boolean } | undefined)?.control_after_generate === true || name === 'seed' || name === 'noise_seed')
      index += extra ? 2 : 1
    }
  }
  return out
}

const norm = (s: unknown) => String(s).replace(/\\/g, '/')

function folderMatcher (lists: ModelLists): (options: unknown[]) => string | undefined {
  const sets = Object.entries(lists)
    .filter(([folder, files]) => folder !== 'custom_nodes' && folder !== 'configs' && Array.isArray(files) && files.length > 0)
    .map(([folder, files]) => ({ folder, files: new Set(files.map(norm)) }))
  return (options) => {
    const opts = options.filter(o => typeof o === 'string').map(norm)
    if (opts.length === 0) return undefined
    let best: { folder: string, size: number } | undefined
    for (const { folder, files } of sets) {
      const hits = opts.filter(o => files.has(o)).length
      // Every option is a file of the folder, allowing a couple of sentinels such as "None".
      if (hits === 0 || hits < opts.length - 2 || hits < files.size / 2) continue
      if (!best || files.size < best.size) best = { folder, size: files.size }
    }
    return best?.folder
  }
}

const liveCache = new WeakMap<ObjectInfo, WeakMap<ModelLists, Map<string, LoaderInput[]>>>()

/** Model inputs of every class in a live object_info, by matching COMBO options against the model folder lists. */
export function liveLoaderInputs (objectInfo: ObjectInfo, lists: ModelLists): Map<string, LoaderInput[]> {
  let byLists = liveCache.get(objectInfo)
  const cached = byLists?.get(lists)
  if (cached) return cached
  const match = folderMatcher(lists)
  const out = new Map<string, LoaderInput[]>()
  for (const [type, info] of Object.entries(objectInfo)) {
    if (typeof info !== 'object' || info === null) continue
    const rows: LoaderInput[] = []
    for (const w of widgetInputs(info)) {
      if (!w.options) continue
      const builtin = BUILTIN.get(type)?.find(r => r.input === w.name)
      const folder = match(w.options) ?? builtin?.folder
      if (folder) rows.push({ type, input: w.name, index: w.index, folder: builtin?.folder ?? folder })
    }
    out.set(type, rows)
  }
  if (!byLists) liveCache.set(objectInfo, byLists = new WeakMap())
  byLists.set(lists, out)
  return out
}
