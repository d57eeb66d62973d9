/**
 * @module `git status --porcelain=v1 -z` as typed entries. With -z git neither quotes nor escapes a path,
 * so any file name (spaces, non-ASCII, quotes, newlines) comes back exactly as it is on disk.
 */

/** One changed path: `x` is the index column, `y` the work tree column (`?` untracked, `!` ignored). */
export interface StatusEntry {
  x: string
  y: string
  path: string
  /** For a rename or copy: the path it came from. */
  origPath?: string
}

/** Parses the NUL-separated v1 porcelain format: `XY path\0`, or `XY path\0orig\0` for renames and copies. */
export function parsePorcelainZ (out: string): StatusEntry[] {
  const fields = out.split('\0')
  const entries: StatusEntry[] = []
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]
    if (f.length < 4) continue
    const x = f[0]
    const y = f[1]
    const entry: StatusEntry = { x, y, path: f.slice(3) }
    if (x === 'R' || x === 'C' || y === 'R' || y === 'C') entry.origPath = fields[++i]
    entries.push(entry)
  }
  return entries
}

export const isUntracked = (e: StatusEntry): boolean => e.x === '?' && e.y === '?'

/** The two status letters as porcelain shows them, trimmed (`M`, `??`, `A`, `RM`). */
export const statusCode = (e: StatusEntry): string => `${e.x}${e.y}`.trim()
