/**
 * @module PEP 440 versions and version specifiers, as Python's `packaging` reads them: enough to tell
 * whether an installed version (the machine's torch) satisfies a requirement such as `torch>=2.1,<3`
 * without asking an installer. Installed versions are taken as they are: a pre-release or local build
 * (`1.13.0a0+gitunknown`, `2.9.0+cu128`) satisfies a range it falls in, as pip treats what is installed.
 */

export interface Version {
  epoch: number
  release: number[]
  pre?: [string, number]
  post?: number
  dev?: number
  local?: Array<string | number>
}

const VERSION = /^\s*v?(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d+)?)?(?:-(\d+)|[-_.]?(post|rev|r)[-_.]?(\d+)?)?(?:[-_.]?(dev)[-_.]?(\d+)?)?(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$/i

const PRE_NAMES: Record<string, string> = { a: 'a', alpha: 'a', b: 'b', beta: 'b', c: 'rc', rc: 'rc', pre: 'rc', preview: 'rc' }

export function parseVersion (text: string): Version | undefined {
  const m = VERSION.exec(text)
  if (!m) return undefined
  const v: Version = { epoch: m[1] ? Number(m[1]) : 0, release: m[2].split('.').map(Number) }
  if (m[3]) v.pre = [PRE_NAMES[m[3].toLowerCase()], Number(m[4] ?? 0)]
  if (m[5] !== undefined) v.post = Number(m[5])
  else if (m[6]) v.post = Number(m[7] ?? 0)
  if (m[8]) v.dev = Number(m[9] ?? 0)
  if (m[10]) v.local = m[10].toLowerCase().split(/[-_.]/).map(s => /^\d+$/.test(s) ? Number(s) : s)
  return v
}

const cmp = (a: number, b: number): number => a < b ? -1 : a > b ? 1 : 0

function compareRelease (a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = cmp(a[i] ?? 0, b[i] ?? 0)
    if (d) return d
  }
  return 0
}

const PRE_ORDER: Record<string, number> = { a: 0, b: 1, rc: 2 }

/** The sort key of `packaging`: a dev release sorts before its pre-releases, a final after them. */
function preKey (v: Version): number[] {
  if (v.pre) return [PRE_ORDER[v.pre[0]], v.pre[1]]
  if (v.post === undefined && v.dev !== undefined) return [-Infinity]
  return [Infinity]
}

function compareLocal (a?: Array<string | number>, b?: Array<string | number>): number {
  if (!a || !b) return a ? 1 : b ? -1 : 0
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i]
    const y = b[i]
    if (x === undefined || y === undefined) return x === undefined ? -1 : 1
    if (typeof x !== typeof y) return typeof x === 'number' ? 1 : -1
    if (x !== y) return x < y ? -1 : 1
  }
  return 0
}

export function compareVersions (a: Version, b: Version): number {
  const key = (v: Version): number[] => [...preKey(v), v.post ?? -Infinity, v.dev ?? Infinity]
  const ka = key(a)
  const kb = key(b)
  let d = cmp(a.epoch, b.epoch) || compareRelease(a.release, b.release)
  for (let i = 0; !d && i < Math.max(ka.length, kb.length); i++) d = cmp(ka[i] ?? -Infinity, kb[i] ?? -Infinity)
  return d || compareLocal(a.local, b.local)
}

const publicOf = (v: Version): Version => ({ ...v, local: undefined })

/** Whether `v` satisfies one clause such as `>=2.1`, `==2.*`, `~=1.4.2`, `!=1.5`. */
function satisfiesClause (v: Version, op: string, spec: string): boolean {
  if (op === '===') return false // arbitrary equality: a string match this module does not do
  if ((op === '==' || op === '!=') && spec.endsWith('.*')) {
    const prefix = parseVersion(spec.slice(0, -2))
    if (!prefix) return true
    const head = publicOf(v)
    const match = head.epoch === prefix.epoch && compareRelease(head.release.slice(0, prefix.release.length), prefix.release) === 0
    return op === '==' ? match : !match
  }
  const s = parseVersion(spec)
  if (!s) return true // a clause that cannot be read is not held against the version
  // A specifier without a local label compares public versions (`==2.9.0` matches `2.9.0+cu128`).
  const c = compareVersions(s.local ? v : publicOf(v), s)
  switch (op) {
    case '==': return c === 0
    case '!=': return c !== 0
    case '>=': return c >= 0
    case '<=': return c <= 0
    case '>': return c > 0 && !(s.post === undefined && v.post !== undefined && compareRelease(v.release, s.release) === 0)
    case '<': return c < 0 && !(s.pre === undefined && v.pre !== undefined && compareRelease(v.release, s.release) === 0)
    case '~=': {
      const upper = s.release.slice(0, Math.max(1, s.release.length - 1))
      return c >= 0 && compareRelease(publicOf(v).release.slice(0, upper.length), upper) === 0
    }
  }
  return true
}

/** Whether `version` satisfies a specifier set such as `>=2.1,<3` (empty: anything does). */
export function satisfies (version: string, specifier: string): boolean {
  const v = parseVersion(version)
  if (!v) return true
  for (const clause of specifier.split(',').map(c => c.trim()).filter(Boolean)) {
    const m = /^(~=|===|==|!=|<=|>=|<|>)\s*(\S+)$/.exec(clause)
    if (m && !satisfiesClause(v, m[1], m[2])) return false
  }
  return true
}

export interface ParsedRequirement {
  name: string
  extras: string[]
  /** `>=2.1,<3`; empty when any version will do. */
  specifier: string
  marker?: string
  /** `name @ url` */
  url?: string
}

/** `torch[extra]>=2.1,<3 ; sys_platform == "linux"` and `torch (>=2)` alike; undefined for what is not a requirement. */
export function parseRequirement (text: string): ParsedRequirement | undefined {
  const [body, ...markerParts] = text.split(';')
  const marker = markerParts.join(';').trim() || undefined
  const m = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?\s*(.*?)\s*$/.exec(body)
  if (!m) return undefined
  const name = m[1].toLowerCase().replace(/[-_.]+/g, '-')
  const extras = (m[2] ?? '').split(',').map(e => e.trim()).filter(Boolean)
  const rest = m[3]
  if (rest.startsWith('@')) return { name, extras, specifier: '', marker, url: rest.slice(1).trim() }
  const specifier = rest.replace(/^\((.*)\)$/, '$1').replace(/\s+/g, '')
  if (specifier && !/^(~=|===|==|!=|<=|>=|<|>)/.test(specifier)) return undefined
  return { name, extras, specifier, marker }
}
