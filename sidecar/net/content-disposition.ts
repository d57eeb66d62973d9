/** @module The file name a server suggests (`Content-Disposition`), made safe to use as a base name. */

export function filenameFromContentDisposition (header: string | undefined): string | undefined {
  if (!header) return undefined
  const star = /filename\*\s*=\s*([^']*)'[^']*'([^;]+)/i.exec(header)
  let name: string | undefined
  if (star) {
    try { name = decodeURIComponent(star[2].trim().replace(/^"|"$/g, '')) } catch { name = undefined }
  }
  if (!name) {
    const plain = /filename\s*=\s*("((?:[^"\\]|\\.)*)"|[^;]+)/i.exec(header)
    if (plain) name = plain[2] !== undefined ? plain[2].replace(/\\(.)/g, '$1') : plain[1].trim()
  }
  return name ? safeBaseName(name) : undefined
}

/** The last path segment of a URL, decoded. */
export function filenameFromUrl (url: string): string | undefined {
  try {
    const seg = new URL(url).pathname.split('/').filter(Boolean).pop()
    return seg ? safeBaseName(decodeURIComponent(seg)) : undefined
  } catch {
    return undefined
  }
}

/** Drops any directory part and characters no file system accepts; never returns "." or "..". */
export function safeBaseName (name: string): string | undefined {
  const base = name.replace(/\\/g, '/').split('/').pop() ?? ''
  const cleaned = base.replace(/[\0-\x1f<>:"|?*]/g, '_').trim()
  if (!cleaned || cleaned === '.' || cleaned === '..') return undefined
  return cleaned
}
