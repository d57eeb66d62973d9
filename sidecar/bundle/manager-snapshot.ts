/**
 * @module ComfyUI-Manager snapshot files, as `cm-cli save-snapshot` (4.x) writes them: JSON, or YAML
 * wrapped in a top-level `custom_nodes:` key. The ComfyUI commit, git packs by URL and commit, registry
 * (CNR) packs by version, loose `.py` files and the pip freeze. What real files hold and the docs do not
 * say: a git pack checked out at a detached commit gets its hash with a trailing newline (cm-cli reads
 * `.git/HEAD` as is), URLs keep the `.git` the pack was cloned with, and folders that are neither git
 * clones nor registry installs (development nodes) are left out of the file entirely.
 */
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import {
  parsePip, readSnapshotText, snapshotError, unknownFields, isLocalOnlySource,
  type ForeignSnapshot, type SnapshotItem, type SnapshotPack, type SnapshotPip,
} from './foreign-snapshot'

const LABEL = 'ComfyUI-Manager snapshot'

const snapshotSchema = z.object({
  comfyui: z.string().nullable().optional(),
  git_custom_nodes: z.record(z.object({ hash: z.string().optional(), disabled: z.boolean().optional() }).passthrough()).nullable().default({}),
  cnr_custom_nodes: z.record(z.string()).nullable().default({}),
  file_custom_nodes: z.array(z.object({ filename: z.string(), disabled: z.boolean().optional() }).passthrough()).nullable().default([]),
  pips: z.record(z.string()).nullable().optional(),
}).passthrough()

const KNOWN = ['comfyui', 'git_custom_nodes', 'cnr_custom_nodes', 'file_custom_nodes', 'pips']

export function isSnapshotFile (file: string): boolean {
  return /\.(json|ya?ml)$/i.test(file)
}

/** Whether parsed JSON/YAML looks like a Manager snapshot (possibly YAML-wrapped). */
export function looksLikeManagerSnapshot (raw: unknown): boolean {
  if (!raw || typeof raw !== 'object') return false
  const inner = 'custom_nodes' in raw && !('git_custom_nodes' in raw) ? (raw as { custom_nodes: unknown }).custom_nodes : raw
  return !!inner && typeof inner === 'object' && ['git_custom_nodes', 'cnr_custom_nodes', 'comfyui'].some(k => k in inner)
}

export function managerSnapshotFromData (raw: unknown, file: string): ForeignSnapshot {
  const unknown: string[] = []
  if (raw && typeof raw === 'object' && 'custom_nodes' in raw && !('git_custom_nodes' in raw) && !('cnr_custom_nodes' in raw)) {
    unknown.push(...unknownFields(raw as Record<string, unknown>, ['custom_nodes']))
    raw = (raw as { custom_nodes: unknown }).custom_nodes
  }
  if (!looksLikeManagerSnapshot(raw)) throw snapshotError(file, LABEL, 'it has none of "comfyui", "git_custom_nodes", "cnr_custom_nodes"')
  const parsed = snapshotSchema.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw snapshotError(file, LABEL, `${issue.path.join('.')}: ${issue.message}`)
  }
  const s = parsed.data
  unknown.push(...unknownFields(s as Record<string, unknown>, KNOWN))
  const packs: SnapshotPack[] = []
  const notInstalled: SnapshotItem[] = []
  const notes: string[] = s.pips === null ? ['the snapshot was saved without pips (--no-full-snapshot)'] : []
  for (const [id, version] of Object.entries(s.cnr_custom_nodes ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    packs.push({ kind: 'registry', id, version, spec: `${id}@${version}` })
  }
  for (const [url, info] of Object.entries(s.git_custom_nodes ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    unknown.push(...unknownFields(info, ['hash', 'disabled'], `git_custom_nodes.${url}.`))
    if (info.disabled) { notInstalled.push({ item: url, reason: 'disabled in the snapshot' }); continue }
    if (isLocalOnlySource(url)) notes.push(`${url} is a local source: it installs only where that repository exists`)
    const hash = info.hash?.trim()
    packs.push({ kind: 'git', id: url, version: hash, spec: hash ? `${url}@${hash}` : url })
  }
  for (const f of s.file_custom_nodes ?? []) {
    notInstalled.push({ item: f.filename, reason: f.disabled ? 'a disabled loose file in custom_nodes' : 'a loose file in custom_nodes; the snapshot has no source to fetch it from' })
  }
  const pips: SnapshotPip[] = []
  for (const [key, value] of Object.entries(s.pips ?? {})) {
    const pip = parsePip(key, value)
    if (pip) pips.push(pip)
    else notInstalled.push({ item: value ? `${key} @ ${value}` : key, reason: 'not a pip requirement comfydock can read' })
  }
  pips.sort((a, b) => a.name.localeCompare(b.name))
  return {
    format: 'comfyui-manager',
    label: LABEL,
    comfyui: s.comfyui ?? null,
    python: null,
    packs,
    notInstalled,
    pips,
    unknown,
    notes,
  }
}

/** Parses snapshot text (YAML when the file name says so). */
export function parseManagerSnapshot (text: string, file = 'snapshot'): ForeignSnapshot {
  let raw: unknown
  try {
    raw = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text)
  } catch (err) {
    throw snapshotError(file, LABEL, (err as Error).message.split('\n')[0])
  }
  return managerSnapshotFromData(raw, file)
}

export async function readManagerSnapshot (file: string): Promise<ForeignSnapshot> {
  return parseManagerSnapshot(await readSnapshotText(file), file)
}
