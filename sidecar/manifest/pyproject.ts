/**
 * @module Reading and writing pyproject.toml. Reads report file, line and column on a parse error;
 * writes are atomic and keep the section order of the original tool
 * (project, dependency-groups, tool.comfydock: metadata, nodes, workflows, models; then the rest).
 */
import { TomlError, parse, stringify } from 'smol-toml'
import { ComfydockError } from '../errors'
import { readSmallFile, writeFileAtomic } from '../fs'
import { VERSION } from '../version'
import { MANIFEST_SCHEMA_VERSION, pyprojectSchema } from './schema'
import type { ComfydockTable, Pyproject } from './types'

/** A dotted TOML key path for messages: `tool.comfydock.nodes."../x".name`. */
function tomlPath (path: Array<string | number>): string {
  return path.map(p => typeof p === 'number' ? `[${p}]` : /^[A-Za-z0-9_-]+$/.test(p) ? p : JSON.stringify(p)).join('.').replace(/\.\[/g, '[') || '(root)'
}

/** The same data with every object's keys in the order `before` had them (a round-trip keeps the file's own order). */
function keepKeyOrder<T> (before: unknown, after: T): T {
  if (Array.isArray(after)) return (Array.isArray(before) ? after.map((v, i) => keepKeyOrder(before[i], v)) : after) as T
  if (!after || typeof after !== 'object' || after instanceof Date) return after
  const src = before && typeof before === 'object' && !Array.isArray(before) ? before as Record<string, unknown> : {}
  const out: Record<string, unknown> = {}
  const a = after as Record<string, unknown>
  for (const k of Object.keys(src)) if (k in a) out[k] = keepKeyOrder(src[k], a[k])
  for (const k of Object.keys(a)) if (!(k in out)) out[k] = keepKeyOrder(undefined, a[k])
  return out as T
}

function checkSchemaVersion (data: Record<string, unknown>, file: string): void {
  const tool = data.tool as { comfydock?: { schema_version?: unknown } } | undefined
  const version = tool?.comfydock?.schema_version
  if (typeof version === 'number' && Number.isInteger(version) && version > MANIFEST_SCHEMA_VERSION) {
    throw new ComfydockError('MANIFEST_UNSUPPORTED_VERSION',
      `${file} uses manifest schema version ${version}; comfydock ${VERSION} reads up to version ${MANIFEST_SCHEMA_VERSION}, so a newer comfydock wrote it`, {
        hint: `Upgrade to a comfydock that reads schema version ${version} (newer than ${VERSION}): \`npm install -g comfydock@latest\`, then run the command again.`,
      })
  }
}

/**
 * Checks parsed TOML data against the manifest schema: the one way in for a pyproject, ours or a
 * stranger's. Unknown keys are kept; nothing is cast.
 */
export function validateManifest (data: unknown, file = 'pyproject.toml'): Pyproject {
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    throw new ComfydockError('MANIFEST_INVALID', `${file}: not a TOML table`)
  }
  checkSchemaVersion(data as Record<string, unknown>, file)
  const parsed = pyprojectSchema.safeParse(data)
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map(i => `${tomlPath(i.path)}: ${i.message}`)
    const more = parsed.error.issues.length > 3 ? ` (and ${parsed.error.issues.length - 3} more)` : ''
    throw new ComfydockError('MANIFEST_INVALID', `${file} is not a valid comfydock manifest: ${issues.join('; ')}${more}`, {
      hint: 'Fix the file by hand, or restore the last committed version with `comfydock rollback HEAD --force`.',
    })
  }
  return keepKeyOrder(data, parsed.data)
}

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
  return validateManifest(data, file)
}

export async function readManifest (file: string): Promise<Pyproject> {
  let text: string
  try {
    text = readSmallFile(file, 'utf8')
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

/** Writes `doc` atomically, after checking it against the schema: comfydock never writes a manifest it would refuse to read. */
export async function writeManifest (file: string, doc: Pyproject): Promise<void> {
  validateManifest(doc, file)
  await writeFileAtomic(file, serializeManifest(doc))
}

/**
 * Runs `fn` on the manifest and keeps its result only if `fn` succeeds: the original bytes are put
 * back on any error, so a failed install or sync never leaves a half-edited pyproject behind.
 */
export async function withManifestTransaction<T> (file: string, fn: (doc: Pyproject) => Promise<T>): Promise<T> {
  const before = readSmallFile(file)
  try {
    return await fn(parseManifest(before.toString('utf8'), file))
  } catch (err) {
    await writeFileAtomic(file, before)
    throw err
  }
}
