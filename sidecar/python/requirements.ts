/** @module The requirement list a manifest asks for, and package-name normalisation (PEP 503). */
import type { Pyproject } from '../manifest'

/** `Foo_Bar.baz` -> `foo-bar-baz`. */
export function normalizePackageName (name: string): string {
  return name.trim().toLowerCase().replace(/[-_.]+/g, '-')
}

/** The distribution name at the start of a requirement (`torch>=2; sys_platform=="linux"` -> `torch`). */
export function requirementName (req: string): string {
  const m = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(req)
  return m ? normalizePackageName(m[1]) : req.trim()
}

/** project.dependencies plus every dependency group, in order, without duplicates. */
export function manifestRequirements (doc: Pyproject): string[] {
  const all = [...(doc.project.dependencies ?? [])]
  for (const group of Object.values(doc['dependency-groups'] ?? {})) {
    for (const req of group) if (typeof req === 'string') all.push(req)
  }
  return [...new Set(all.map(r => r.trim()).filter(Boolean))]
}

/**
 * Reads a requirements.txt: requirement lines only. Option lines (`-r`, `--index-url`, ...) are
 * returned separately so callers can warn instead of silently dropping them.
 */
export function parseRequirementsTxt (text: string): { requirements: string[], skipped: string[] } {
  const requirements: string[] = []
  const skipped: string[] = []
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim()
    if (!line) continue
    if (line.startsWith('-')) skipped.push(line)
    else requirements.push(line)
  }
  return { requirements, skipped }
}

/** A copy of `doc` whose dependencies and groups no longer name `names` (to look past a missing package). */
export function withoutPackages (doc: Pyproject, names: string[]): Pyproject {
  const drop = new Set(names.map(normalizePackageName))
  const keep = (reqs: string[]): string[] => reqs.filter(r => !drop.has(requirementName(r)))
  const groups = Object.fromEntries(Object.entries(doc['dependency-groups'] ?? {}).map(([k, v]) => [k, keep(v)]))
  return { ...doc, project: { ...doc.project, dependencies: keep(doc.project.dependencies) }, ...(doc['dependency-groups'] ? { 'dependency-groups': groups } : {}) }
}

/**
 * Every package no index has: an installer stops at the first, so resolution is tried again without
 * the ones found until it stops finding new ones (at most `rounds` times).
 */
export async function collectMissing (first: string[], retry: (without: string[]) => Promise<string[]>, rounds = 10): Promise<string[]> {
  const all = [...first]
  for (let i = 0; i < rounds; i++) {
    const more = (await retry(all)).filter(n => !all.includes(n))
    if (more.length === 0) break
    all.push(...more)
  }
  return all
}
