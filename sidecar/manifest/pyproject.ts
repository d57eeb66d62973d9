/**
 * @module Reading and writing pyproject.toml. Reads report file, line and column on a parse error;
 * writes are atomic and keep the section order of the original tool
 * (project, dependency-groups, tool.comfydock: metadata, nodes, workflows, models; then the rest).
 */
import { readFile } from 'node:fs/promises'
import { TomlError, parse, stringify } from 'smol-toml'
import { ComfydockError } from '../errors'
import { writeFileAtomic } from '../fs'
import type { ComfydockTable, Pyproject } from './types'

export function parseManifest (text: string, file = 'pyproject.toml'): Pyproject {
  let data: Record<string, unknown>
  try {
    data = parse(text) as Record<string, unknown>
  } catch (err) {
    if (err instanceof TomlError) {
      const first = err.message.split('\n')[0].replace(/^Invalid TOML document:\s*/, '')
      throw new ComfydockError('MANIFEST_PARSE_ERROR', `${file}:${err.line}:${err.column}: ${first}`, {
        hint: 'Fix the file by hand, or restore the last committed version with `comfydock rollback HEAD --force`.',
        cause: err,
      })
    }
    throw err
  }
  const project = (data.project ?? {}) as Pyproject['project']
  project.dependencies ??= []
  const tool = (data.tool ?? {}) as Pyproject['tool']
  tool.comfydock ??= {}
  return { ...data, project, tool } as Pyproject
}

export async function readManifest (file: string): Promise<Pyproject> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new ComfydockError('FILE_NOT_FOUND', `cannot read ${file}: ${(err as Error).message}`, { cause: err })
  }
  return parseManifest(text, file)
}

const COMFYDOCK_ORDER = ['schema_version', 'comfyui_version', 'comfyui_version_type', 'comfyui_commit_sha', 'python_version']
const COMFYDOCK_TABLES = ['nodes', 'workflows', 'models']

function orderComfydock (t: ComfydockTable): ComfydockTable {
  const out: Record<string, unknown> = {}
  for (const k of COMFYDOCK_ORDER) if (t[k] !== undefined) out[k] = t[k]
  for (const k of Object.keys(t)) if (!COMFYDOCK_ORDER.includes(k) && !COMFYDOCK_TABLES.includes(k) && t[k] !== undefined) out[k] = t[k]
  for (const k of COMFYDOCK_TABLES) {
    const table = t[k] as Record<string, unknown> | undefined
    if (table && Object.keys(table).length > 0) out[k] = sortKeys(table)
  }
  return out as ComfydockTable
}

function sortKeys<T extends Record<string, unknown>> (obj: T): T {
  return Object.fromEntries(Object.keys(obj).sort().map(k => [k, obj[k]])) as T
}

/** Drops undefined values, which TOML cannot hold. */
function clean (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clean)
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, clean(v)]))
  }
  return value
}

export function serializeManifest (doc: Pyproject): string {
  const ordered: Record<string, unknown> = { project: doc.project }
  const groups = doc['dependency-groups']
  if (groups && Object.keys(groups).length > 0) ordered['dependency-groups'] = sortKeys(groups)
  const tool: Record<string, unknown> = { comfydock: orderComfydock(doc.tool.comfydock) }
  for (const [k, v] of Object.entries(doc.tool)) if (k !== 'comfydock' && v !== undefined) tool[k] = v
  for (const [k, v] of Object.entries(doc)) if (k !== 'project' && k !== 'dependency-groups' && k !== 'tool' && v !== undefined) ordered[k] = v
  ordered.tool = tool
  return stringify(clean(ordered) as Record<string, unknown>) + '\n'
}

export async function writeManifest (file: string, doc: Pyproject): Promise<void> {
  await writeFileAtomic(file, serializeManifest(doc))
}

/**
 * Runs `fn` on the manifest and keeps its result only if `fn` succeeds: the original bytes are put
 * back on any error, so a failed install or sync never leaves a half-edited pyproject behind.
 */
export async function withManifestTransaction<T> (file: string, fn: (doc: Pyproject) => Promise<T>): Promise<T> {
  const before = await readFile(file)
  try {
    return await fn(parseManifest(before.toString('utf8'), file))
  } catch (err) {
    await writeFileAtomic(file, before)
    throw err
  }
}
