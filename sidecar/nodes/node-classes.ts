/**
 * @module The node classes a pack provides, known without the network: the keys of its
 * `NODE_CLASS_MAPPINGS`, read statically from its Python source (never run), recorded in the pack's
 * manifest entry (`node_classes`) when it is added, adopted or updated. Resolution, status and prune all
 * read them through `packClasses`, so they agree offline.
 */
import type { Dirent } from 'node:fs'
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { NodeEntry, Pyproject } from '../manifest'
import type { EnvPaths } from '../workspace'
import { packDir } from '../workspace'

/** Python files read per pack, and the largest one read: a pack is source code, not data. */
const MAX_FILES = 400
const MAX_FILE_BYTES = 2 * 1024 * 1024
const MAX_DEPTH = 3
const SKIP_DIRS = new Set(['__pycache__', 'node_modules', 'venv', '.venv', 'tests', 'test', 'web', 'js', 'docs', 'examples'])

/**
 * The string keys of every dict literal given to NODE_CLASS_MAPPINGS in `source`: `NODE_CLASS_MAPPINGS = {…}`,
 * `NODE_CLASS_MAPPINGS.update({…})` and `NODE_CLASS_MAPPINGS["X"] = …`. Spreads and computed keys are skipped.
 */
export function mappingKeysInSource (source: string): string[] {
  const keys: string[] = []
  const re = /NODE_CLASS_MAPPINGS\s*(?::[^=\n]*)?(=(?!=)|\|=|\.update\s*\(|\[)\s*/g
  let m: RegExpExecArray | null
  while ((m = re.exec(source)) !== null) {
    const at = m.index + m[0].length
    if (m[1] === '[') {
      const s = readString(source, at)
      if (s && /^\s*\]\s*=[^=]/.test(source.slice(s.end, s.end + 8))) keys.push(s.value)
      continue
    }
    if (source[at] === '{') keys.push(...dictKeys(source, at))
  }
  return keys
}

interface StringToken { value: string, end: number }

/** A Python string literal (optional r/u/b/f prefix, single or triple quotes) starting at `i`. */
function readString (src: string, i: number): StringToken | undefined {
  const pre = /^[rRuUbBfF]{0,2}/.exec(src.slice(i, i + 2))![0]
  let j = i + pre.length
  const q = src[j]
  if (q !== '"' && q !== "'") return undefined
  const triple = src.startsWith(q.repeat(3), j)
  const close = triple ? q.repeat(3) : q
  j += close.length
  let value = ''
  const raw = /[rR]/.test(pre)
  while (j < src.length) {
    if (src.startsWith(close, j)) return { value, end: j + close.length }
    const c = src[j]
    if (!triple && c === '\n') return undefined
    if (c === '\\' && !raw) { value += src[j + 1] ?? ''; j += 2; continue }
    value += c
    j++
  }
  return undefined
}

/** Keys of the dict literal whose `{` is at `open`: string literals at depth 1 followed by `:`. */
function dictKeys (src: string, open: number): string[] {
  const keys: string[] = []
  let depth = 0
  let expectKey = false
  for (let i = open; i < src.length; i++) {
    const c = src[i]
    if (c === '#') { while (i < src.length && src[i] !== '\n') i++; continue }
    if (/\s/.test(c)) continue
    const s = /["'rRuUbBfF]/.test(c) ? readString(src, i) : undefined
    if (s) {
      if (depth === 1 && expectKey && /^\s*:/.test(src.slice(s.end, s.end + 40))) keys.push(s.value)
      expectKey = false
      i = s.end - 1
      continue
    }
    if (c === '{' || c === '[' || c === '(') { depth++; expectKey = depth === 1; continue }
    if (c === '}' || c === ']' || c === ')') { depth--; if (depth === 0) return keys; continue }
    if (c === ',' && depth === 1) { expectKey = true; continue }
    if (depth === 1) expectKey = false
  }
  return keys
}

/** The node classes in a pack folder's Python source (sorted, unique); empty when none are found. */
export async function scanPackClasses (folder: string): Promise<string[]> {
  const found = new Set<string>()
  let files = 0
  async function walk (dir: string, depth: number): Promise<void> {
    let entries: Dirent[]
    try { entries = await readdir(dir, { withFileTypes: true }) } catch { return }
    entries.sort((a, b) => a.name.localeCompare(b.name))
    for (const e of entries) {
      if (files >= MAX_FILES) return
      const p = join(dir, e.name)
      if (e.isDirectory()) {
        if (depth < MAX_DEPTH && !SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) await walk(p, depth + 1)
      } else if (e.isFile() && e.name.endsWith('.py')) {
        files++
        try {
          if ((await stat(p)).size > MAX_FILE_BYTES) continue
          const text = await readFile(p, 'utf8')
          if (text.includes('NODE_CLASS_MAPPINGS')) for (const k of mappingKeysInSource(text)) found.add(k)
        } catch { /* unreadable file: nothing from it */ }
      }
    }
  }
  await walk(folder, 0)
  return [...found].sort()
}

/** The entry with the classes found in `folder` recorded (unchanged when none are found). */
export async function withNodeClasses (entry: NodeEntry, folder: string): Promise<NodeEntry> {
  const classes = await scanPackClasses(folder)
  if (classes.length === 0) return entry
  return { ...entry, node_classes: classes }
}

/** A tracked pack's recorded classes, if any. */
export function recordedClasses (entry: NodeEntry): string[] | undefined {
  return entry.node_classes
}

/**
 * Each tracked pack's classes: recorded in the manifest, else read from its installed folder (a pack
 * imported or pulled from a manifest written before classes were recorded).
 */
export async function packClasses (env: EnvPaths, doc: Pyproject): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>()
  for (const [id, entry] of Object.entries(doc.tool.comfydock.nodes ?? {})) {
    const rec = recordedClasses(entry)
    if (rec?.length) { out.set(id, rec); continue }
    let folder: string
    try { folder = packDir(env, entry.name) } catch { continue }
    const scanned = await scanPackClasses(folder)
    if (scanned.length) out.set(id, scanned)
  }
  return out
}

/**
 * Adds what a running ComfyUI says each tracked pack provides (`/api/object_info`: a class whose
 * `python_module` is `custom_nodes.<folder>`) to the pack's recorded classes. True when an entry changed.
 */
export function recordObjectInfoClasses (doc: Pyproject, objectInfo: Record<string, { python_module?: string }>): boolean {
  const byFolder = new Map<string, Set<string>>()
  for (const [cls, info] of Object.entries(objectInfo)) {
    const mod = typeof info?.python_module === 'string' ? info.python_module : ''
    if (!mod.startsWith('custom_nodes.')) continue
    const folder = mod.split('.')[1]
    if (!byFolder.has(folder)) byFolder.set(folder, new Set())
    byFolder.get(folder)!.add(cls)
  }
  let changed = false
  for (const entry of Object.values(doc.tool.comfydock.nodes ?? {})) {
    const live = byFolder.get(entry.name)
    if (!live) continue
    const all = [...new Set([...(entry.node_classes ?? []), ...live])].sort()
    if (all.length === (entry.node_classes?.length ?? 0)) continue
    entry.node_classes = all
    changed = true
  }
  return changed
}
