/**
 * @module JSON.parse that also accepts the bare NaN / Infinity / -Infinity Python's json.dumps writes.
 * Tokens are rewritten outside strings only (Infinity → 1e999, which JSON.parse reads as Infinity; NaN → null).
 */
export class JsonSyntaxError extends Error {
  constructor (message: string, readonly line: number, readonly column: number) {
    super(message)
  }
}

const BARE = /NaN|-?Infinity/y

function rewriteBareNumbers (text: string): string | undefined {
  let out = ''
  let last = 0
  let changed = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 34 /* " */) {
      for (i++; i < text.length && text.charCodeAt(i) !== 34; i++) if (text.charCodeAt(i) === 92) i++
      continue
    }
    if (c !== 78 && c !== 73 && c !== 45) continue // N, I, -
    BARE.lastIndex = i
    const m = BARE.exec(text)
    if (!m) continue
    out += text.slice(last, i) + (m[0] === 'NaN' ? 'null' : m[0].startsWith('-') ? '-1e999' : '1e999')
    i += m[0].length - 1
    last = i + 1
    changed = true
  }
  return changed ? out + text.slice(last) : undefined
}

function position (text: string, err: unknown): { line: number, column: number } {
  const m = /position (\d+)/.exec(err instanceof Error ? err.message : '')
  const pos = m ? Number(m[1]) : text.length
  const before = text.slice(0, pos).split('\n')
  return { line: before.length, column: before[before.length - 1].length + 1 }
}

export function parseLenientJson (text: string): unknown {
  try {
    return JSON.parse(text)
  } catch (first) {
    const rewritten = rewriteBareNumbers(text)
    if (rewritten !== undefined) {
      try { return JSON.parse(rewritten) } catch { /* report the original position below */ }
    }
    const { line, column } = position(text, first)
    const reason = (first instanceof Error ? first.message : String(first)).replace(/ in JSON at position \d+.*$/s, '')
    throw new JsonSyntaxError(`${reason} at line ${line}, column ${column}`, line, column)
  }
}
