/**
 * @module The environment's lock as pip reads it: `.cec/requirements.lock.txt`, every package of the
 * whole environment pinned `name==version` with its `--hash`es (and an environment marker where a
 * package is only for some platforms). uv environments also keep `uv.lock` and export this file from
 * it, so any machine, with or without uv, can install exactly the same versions.
 *
 * The header records a digest of what the lock was resolved from (the manifest's requirements, groups,
 * requires-python and overrides), so a lock that no longer matches its manifest is never installed.
 * The torch family is machine-local (its wheels differ per CUDA/ROCm/CPU build): it is never in the lock.
 */
import { createHash } from 'node:crypto'
import type { Pyproject } from '../manifest'
import { evaluateMarker, type MarkerEnv } from './markers'
import { manifestRequirements, normalizePackageName, requirementName } from './requirements'

export const REQUIREMENTS_LOCK = 'requirements.lock.txt'

/** Packages whose build depends on the machine's GPU stack; installed per machine, never locked. */
export const TORCH_FAMILY = ['torch', 'torchvision', 'torchaudio']

export function isTorchFamily (req: string): boolean {
  return TORCH_FAMILY.includes(requirementName(req))
}

/** The manifest's override requirements (`[tool.uv] override-dependencies`): a user's answer to a conflict. */
export function manifestOverrides (doc: Pyproject): string[] {
  const list = (doc.tool.uv as { 'override-dependencies'?: unknown } | undefined)?.['override-dependencies']
  return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : []
}

/** The manifest's requirements with its overrides put in place of the requirements they override. */
export function requirementsWithOverrides (doc: Pyproject): string[] {
  const overrides = new Map(manifestOverrides(doc).map(o => [requirementName(o), o]))
  return [...new Set(manifestRequirements(doc).map(r => overrides.get(requirementName(r)) ?? r))]
}

/** A digest of everything a resolution depends on in the manifest. */
export function requirementsDigest (doc: Pyproject): string {
  const groups = Object.entries(doc['dependency-groups'] ?? {}).sort(([a], [b]) => a.localeCompare(b))
  const input = JSON.stringify({
    python: doc.project['requires-python'] ?? null,
    dependencies: [...doc.project.dependencies].map(r => r.trim()).sort(),
    groups: groups.map(([name, reqs]) => [name, [...reqs].map(r => String(r).trim()).sort()]),
    overrides: manifestOverrides(doc).sort(),
  })
  return createHash('sha256').update(input).digest('hex')
}

export interface LockedPackage {
  name: string
  version: string
  marker?: string
  hashes: string[]
}

/** Parses requirements-lock text (`name==1.0 ; marker \` continued by `--hash=` lines). */
export function parseRequirementsLock (text: string): { digest?: string, packages: LockedPackage[] } {
  const digest = /^# requirements-digest: ([0-9a-f]{64})$/m.exec(text)?.[1]
  const joined = text.replace(/\\\r?\n/g, ' ')
  const packages: LockedPackage[] = []
  for (const raw of joined.split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim()
    if (!line || line.startsWith('-')) continue
    const hashes = [...line.matchAll(/--hash[= ](\S+)/g)].map(m => m[1])
    const spec = line.replace(/--hash[= ]\S+/g, '').trim()
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*===?\s*([^\s;]+)\s*(?:;\s*(.+))?$/.exec(spec)
    if (!m) continue
    packages.push({ name: normalizePackageName(m[1]), version: m[2], marker: m[3]?.trim() || undefined, hashes })
  }
  return { digest, packages }
}

/** Writes the lock: a header saying what it is and what it was resolved from, then one entry per package. */
export function formatRequirementsLock (doc: Pyproject, packages: LockedPackage[], resolvedBy: string): string {
  const lines = [
    '# comfydock lock: every Python package of this environment, pinned with hashes.',
    `# Resolved by ${resolvedBy}. Install with: pip install --no-deps --require-hashes -r ${REQUIREMENTS_LOCK}`,
    `# The torch family (${TORCH_FAMILY.join(', ')}) is machine-local and installed per machine; it is not pinned here.`,
    `# requirements-digest: ${requirementsDigest(doc)}`,
  ]
  for (const p of [...packages].sort((a, b) => a.name.localeCompare(b.name))) {
    const head = `${p.name}==${p.version}${p.marker ? ` ; ${p.marker}` : ''}`
    lines.push(p.hashes.length ? [head, ...p.hashes.map(h => `    --hash=${h}`)].join(' \\\n') : head)
  }
  return lines.join('\n') + '\n'
}

/** Puts a header with the digest in front of lock text another tool wrote (uv export). */
export function withLockHeader (doc: Pyproject, body: string, resolvedBy: string): string {
  const header = formatRequirementsLock(doc, [], resolvedBy)
  return header + body.split(/\r?\n/).filter(l => !/^#/.test(l)).join('\n').replace(/^\n+/, '')
}

/** The lock's packages that apply to this machine (their marker holds). */
export function applicablePackages (packages: LockedPackage[], env: MarkerEnv): LockedPackage[] {
  return packages.filter(p => !p.marker || evaluateMarker(p.marker, env))
}

/** The manifest's requirements on the torch family: what the machine-local torch step installs. */
export function torchRequirements (doc: Pyproject): string[] {
  return manifestRequirements(doc).filter(isTorchFamily)
}
