/**
 * @module Three-way merge of plain values: each side's change against the common ancestor. A value both
 * sides changed to different things is a conflict; everything else merges by itself. Used for every
 * part of the manifest, so "changed on both sides" means the same thing everywhere.
 */
import { isDeepStrictEqual } from 'node:util'

export type Side = 'mine' | 'theirs'

/** `absent` stands for a key one version does not have. */
export const ABSENT = undefined

export type ThreeWay<T> =
  | { merged: true, value: T | undefined, from: Side | 'both' }
  | { merged: false, mine: T | undefined, theirs: T | undefined }

export function same (a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(a, b)
}

export function threeWay<T> (base: T | undefined, mine: T | undefined, theirs: T | undefined): ThreeWay<T> {
  if (same(mine, theirs)) return { merged: true, value: mine, from: 'both' }
  if (same(base, mine)) return { merged: true, value: theirs, from: 'theirs' }
  if (same(base, theirs)) return { merged: true, value: mine, from: 'mine' }
  return { merged: false, mine, theirs }
}

/** The keys of several tables, in a stable order: mine's first, then new ones from theirs. */
export function keysOf (...tables: Array<Record<string, unknown> | undefined>): string[] {
  const keys: string[] = []
  for (const t of tables) for (const k of Object.keys(t ?? {})) if (!keys.includes(k)) keys.push(k)
  return keys
}

/** PEP 508 name of a requirement line, normalised ("Pillow>=9" -> "pillow"). */
export function requirementName (line: string): string {
  return (/^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(line)?.[1] ?? line.trim()).toLowerCase().replace(/[-_.]+/g, '-')
}

export type ListMerge =
  | { merged: true, value: string[] }
  | { merged: false, mine: string[] | undefined, theirs: string[] | undefined }

/**
 * Requirement lists merge as sets of packages: a line one side added or removed is added or removed,
 * unless the other side put a different line for the same package there (two specifiers for one
 * package is a conflict, never two lines).
 */
export function mergeRequirements (base: string[] | undefined, mine: string[] | undefined, theirs: string[] | undefined): ListMerge {
  const whole = threeWay(base, mine, theirs)
  if (whole.merged) return { merged: true, value: whole.value ?? [] }
  const b = base ?? []; const m = mine ?? []; const t = theirs ?? []
  const byName = (list: string[]): Map<string, string> => new Map(list.map(l => [requirementName(l), l]))
  const [bn, mn, tn] = [byName(b), byName(m), byName(t)]
  const out: string[] = []
  for (const name of keysOf(Object.fromEntries(mn), Object.fromEntries(tn))) {
    const r = threeWay(bn.get(name), mn.get(name), tn.get(name))
    if (!r.merged) return { merged: false, mine, theirs }
    if (r.value !== undefined) out.push(r.value)
  }
  return { merged: true, value: out }
}
