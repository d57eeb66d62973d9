/**
 * @module ComfyUI-Manager snapshot files (JSON, or YAML as cm-cli / comfy-cli save them, optionally
 * wrapped in a top-level `custom_nodes:` key): the ComfyUI commit, git packs pinned by commit,
 * registry (CNR) packs by version, loose .py files and the pip freeze. They become node specs for a
 * new environment; pip pins are reported but, as in ComfyUI-Manager's own restore, not installed.
 */
import { readFile } from 'node:fs/promises'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { ComfydockError } from '../errors'

const snapshotSchema = z.object({
  comfyui: z.string().nullable().optional(),
  git_custom_nodes: z.record(z.object({ hash: z.string().optional(), disabled: z.boolean().optional() }).passthrough()).default({}),
  cnr_custom_nodes: z.record(z.string()).default({}),
  file_custom_nodes: z.array(z.object({ filename: z.string(), disabled: z.boolean().optional() }).passthrough()).default([]),
  pips: z.record(z.string()).nullable().optional(),
}).passthrough()

export interface SnapshotPack {
  /** What `node add` takes: `id@version` or `url@commit`. */
  spec: string
  kind: 'registry' | 'git'
  id: string
  version?: string
}

export interface ManagerSnapshot {
  /** ComfyUI git commit, or null when the snapshot has none. */
  comfyui: string | null
  packs: SnapshotPack[]
  /** Packs disabled in the snapshot: not installed. */
  disabled: string[]
  /** Loose .py files in custom_nodes: they carry no source to fetch. */
  files: string[]
  /** pip freeze lines (`name==1.0`, `name @ url`). */
  pips: string[]
}

function snapshotError (file: string, detail: string): ComfydockError {
  return new ComfydockError('BUNDLE_CORRUPT', `${file} is not a ComfyUI-Manager snapshot: ${detail}`, {
    hint: 'Save one with ComfyUI-Manager ("Save snapshot") or `comfy node save-snapshot`, then run `comfydock import <file>`.',
  })
}

export function isSnapshotFile (file: string): boolean {
  return /\.(json|ya?ml)$/i.test(file)
}

export function parseManagerSnapshot (text: string, file = 'snapshot'): ManagerSnapshot {
  let raw: unknown
  try {
    raw = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text)
  } catch (err) {
    throw snapshotError(file, (err as Error).message.split('\n')[0])
  }
  if (raw && typeof raw === 'object' && 'custom_nodes' in raw && !('git_custom_nodes' in raw) && !('cnr_custom_nodes' in raw)) {
    raw = (raw as { custom_nodes: unknown }).custom_nodes
  }
  if (!raw || typeof raw !== 'object' || !['git_custom_nodes', 'cnr_custom_nodes', 'comfyui'].some(k => k in raw)) {
    throw snapshotError(file, 'it has none of "comfyui", "git_custom_nodes", "cnr_custom_nodes"')
  }
  const parsed = snapshotSchema.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw snapshotError(file, `${issue.path.join('.')}: ${issue.message}`)
  }
  const s = parsed.data
  const packs: SnapshotPack[] = []
  const disabled: string[] = []
  for (const [id, version] of Object.entries(s.cnr_custom_nodes).sort(([a], [b]) => a.localeCompare(b))) {
    packs.push({ kind: 'registry', id, version, spec: `${id}@${version}` })
  }
  for (const [url, info] of Object.entries(s.git_custom_nodes).sort(([a], [b]) => a.localeCompare(b))) {
    if (info.disabled) { disabled.push(url); continue }
    packs.push({ kind: 'git', id: url, version: info.hash, spec: info.hash ? `${url}@${info.hash}` : url })
  }
  const pips = Object.entries(s.pips ?? {}).map(([k, v]) => (v ? `${k} @ ${v}` : k)).sort()
  return {
    comfyui: s.comfyui ?? null,
    packs,
    disabled,
    files: s.file_custom_nodes.filter(f => !f.disabled).map(f => f.filename),
    pips,
  }
}

export async function readManagerSnapshot (file: string): Promise<ManagerSnapshot> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new ComfydockError('FILE_NOT_FOUND', `cannot read ${file}: ${(err as Error).message}`)
  }
  return parseManagerSnapshot(text, file)
}
