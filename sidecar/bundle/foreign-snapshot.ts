/**
 * @module The one shape every foreign snapshot is read into (ComfyUI-Manager JSON/YAML, ComfyUI Desktop
 * 2.0 envelopes): the ComfyUI commit, packs to install, what cannot be installed and why, the pip freeze,
 * and every field comfydock does not understand, so an import can report all of it.
 */
import { readFile } from 'node:fs/promises'
import { ComfydockError } from '../errors'
import { normalizePackageName } from '../python'

export interface SnapshotPack {
  /** What `node add` takes: `id@version` or `url@commit`. */
  spec: string
  kind: 'registry' | 'git'
  id: string
  version?: string
}

export interface SnapshotItem {
  item: string
  reason: string
}

export interface SnapshotPip {
  name: string
  version?: string
  url?: string
  /** As the file wrote it (`name==1.0`, `name @ url`). */
  text: string
}

export interface ForeignSnapshot {
  format: 'comfyui-manager' | 'comfyui-desktop-2'
  /** For messages: "ComfyUI-Manager snapshot", "ComfyUI Desktop 2.0 snapshot". */
  label: string
  /** ComfyUI git commit (or tag), or null when the file has none. */
  comfyui: string | null
  python: string | null
  packs: SnapshotPack[]
  /** Listed but not installable, with the reason (disabled, loose files, local-only sources). */
  notInstalled: SnapshotItem[]
  pips: SnapshotPip[]
  /** Set when the file records its pips for information only (Desktop's skipPipSync). */
  pipsInformational?: string
  /** Fields comfydock does not understand (`path: value`): reported, never silently dropped. */
  unknown: string[]
  /** What was read but kept out of the shared environment on purpose (machine-local data). */
  notes: string[]
  /** A name the file suggests for the environment. */
  suggestedName?: string
}

/** PEP 508 names; never starts with `-`, so a name cannot be read as an option by pip or uv. */
const PIP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/
const PIP_VERSION = /^[A-Za-z0-9][A-Za-z0-9._+!-]*$/

export function snapshotError (file: string, label: string, detail: string): ComfydockError {
  return new ComfydockError('BUNDLE_CORRUPT', `${file} is not a ${label}: ${detail}`, {
    hint: 'Save one with ComfyUI-Manager (`cm-cli save-snapshot`) or ComfyUI Desktop ("Export snapshot"), then run `comfydock import <file>`.',
  })
}

/** One pip entry from `name==version` or `name @ url`; null for what is not a requirement. */
export function parsePip (key: string, value: string): SnapshotPip | null {
  const text = value ? `${key} @ ${value}` : key
  if (value) return PIP_NAME.test(key) ? { name: key, url: value, text } : null
  const m = /^([^=\s]+)==([^=\s]+)$/.exec(key)
  if (m && PIP_NAME.test(m[1]) && PIP_VERSION.test(m[2])) return { name: m[1], version: m[2], text }
  return null
}

/** Packages a snapshot never carries to another machine: they follow the local GPU and installer. */
export function isMachineLocalPackage (name: string): boolean {
  const n = normalizePackageName(name)
  return ['torch', 'torchvision', 'torchaudio', 'triton', 'xformers', 'pip', 'setuptools', 'wheel', 'uv'].includes(n) ||
    n.startsWith('nvidia-') || n.startsWith('pytorch-triton') || n.includes('cuda')
}

/** A source only the machine that wrote it can reach: a local path, `file://`, or a loopback host. */
export function isLocalOnlySource (url: string): boolean {
  const u = url.replace(/^git\+/, '')
  if (/^file:/i.test(u) || u.startsWith('/') || u.startsWith('./') || u.startsWith('../') || /^[A-Za-z]:[\\/]/.test(u) || u.startsWith('~')) return true
  try {
    const host = new URL(u).hostname.replace(/^\[|\]$/g, '').toLowerCase()
    return host === 'localhost' || host.endsWith('.localhost') || /^127\./.test(host) || host === '::1' || host === '0.0.0.0'
  } catch {
    return false
  }
}

/** Keys of `obj` not in `known`, as `prefix.key: value` lines. */
export function unknownFields (obj: Record<string, unknown>, known: string[], prefix = ''): string[] {
  return Object.keys(obj).filter(k => !known.includes(k)).sort()
    .map(k => `${prefix}${k}: ${JSON.stringify(obj[k])?.slice(0, 80) ?? 'undefined'}`)
}

export async function readSnapshotText (file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    throw new ComfydockError('FILE_NOT_FOUND', `cannot read ${file}: ${(err as Error).message}`, { hint: 'Check the path and try again.' })
  }
}

/** One line of a pip freeze (`name==version`, `name @ url`); null for anything else. */
export function parsePipLine (line: string): SnapshotPip | null {
  const at = /^([^\s@]+)\s*@\s*(\S+)$/.exec(line.trim())
  return at ? parsePip(at[1], at[2]) : parsePip(line.trim(), '')
}
