/** @module Joins a client- or archive-supplied relative path onto a root, refusing anything that escapes it. */
import { isAbsolute, normalize, relative, resolve, sep } from 'node:path'
import { ComfydockError } from '../errors'

/** True when `child` is `root` or inside it (both resolved; no symlink resolution). */
export function isInside (root: string, child: string): boolean {
  const rel = relative(resolve(root), resolve(child))
  return rel === '' || (!rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel))
}

/**
 * Resolves `rel` under `root`. Rejects absolute paths, drive letters, `..` segments that leave
 * the root, and NUL bytes. Backslashes count as separators (Windows-made paths).
 */
export function safeJoin (root: string, rel: string, what = 'path'): string {
  const cleaned = rel.replace(/\\/g, '/')
  if (cleaned.includes('\0') || isAbsolute(cleaned) || /^[A-Za-z]:/.test(cleaned) || cleaned.startsWith('/')) {
    throw new ComfydockError('PATH_OUTSIDE_WORKSPACE', `${what} "${rel}" is absolute; only paths relative to ${root} are allowed`)
  }
  const target = resolve(root, normalize(cleaned))
  if (!isInside(root, target)) {
    throw new ComfydockError('PATH_OUTSIDE_WORKSPACE', `${what} "${rel}" points outside ${root}`)
  }
  return target
}
