/**
 * @module PEP 508 environment markers (`python_full_version < '3.12' and sys_platform == 'linux'`),
 * evaluated for the venv's interpreter, so a lock line meant for another platform or Python is not
 * reported as missing. Covers the marker variables lock files carry; `extra` is always false.
 */
import { arch, platform, release } from 'node:os'

export type MarkerEnv = Record<string, string>

/** The marker values of this machine for a Python of `pythonVersion` (major.minor.patch). */
export function markerEnv (pythonVersion: string, implementation = 'cpython'): MarkerEnv {
  const sysPlatform = platform() === 'win32' ? 'win32' : platform()
  const machine = ({ x64: sysPlatform === 'win32' ? 'AMD64' : 'x86_64', arm64: sysPlatform === 'darwin' ? 'arm64' : 'aarch64', ia32: 'i686' } as Record<string, string>)[arch()] ?? arch()
  return {
    python_version: pythonVersion.split('.').slice(0, 2).join('.'),
    python_full_version: pythonVersion,
    os_name: sysPlatform === 'win32' ? 'nt' : 'posix',
    sys_platform: sysPlatform,
    platform_system: ({ linux: 'Linux', darwin: 'Darwin', win32: 'Windows' } as Record<string, string>)[sysPlatform] ?? sysPlatform,
    platform_machine: machine,
    platform_release: release(),
    platform_python_implementation: implementation === 'cpython' ? 'CPython' : implementation,
    implementation_name: implementation,
    extra: '',
  }
}

const VERSION_VARS = new Set(['python_version', 'python_full_version', 'implementation_version', 'platform_release'])

function compareVersions (a: string, b: string): number {
  const pa = a.split(/[.+-]/).map(x => parseInt(x, 10) || 0)
  const pb = b.split(/[.+-]/).map(x => parseInt(x, 10) || 0)
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0)
    if (d !== 0) return d
  }
  return 0
}

function compare (left: string, op: string, right: string, versions: boolean): boolean {
  switch (op) {
    case 'in': return right.includes(left)
    case 'not in': return !right.includes(left)
  }
  if (versions && /^\d/.test(left) && /^\d/.test(right.replace(/\.\*$/, ''))) {
    if (right.endsWith('.*')) {
      const prefix = right.slice(0, -2)
      const match = left === prefix || left.startsWith(prefix + '.')
      return op === '!=' ? !match : match
    }
    const c = compareVersions(left, right)
    switch (op) {
      case '==': case '===': return c === 0
      case '!=': return c !== 0
      case '<': return c < 0
      case '<=': return c <= 0
      case '>': return c > 0
      case '>=': return c >= 0
      case '~=': return c >= 0 && compareVersions(left, right.split('.').slice(0, -1).join('.') + '.99999') <= 0
    }
  }
  switch (op) {
    case '==': case '===': return left === right
    case '!=': return left !== right
    default: return false
  }
}

type Token = { kind: 'str' | 'var' | 'op' | 'lp' | 'rp' | 'and' | 'or', value: string }

function tokenize (text: string): Token[] {
  const tokens: Token[] = []
  const re = /\s*(?:(\()|(\))|'([^']*)'|"([^"]*)"|(===|==|!=|<=|>=|~=|<|>|not\s+in\b|in\b)|(and\b)|(or\b)|([A-Za-z_.][A-Za-z0-9_.]*))/y
  let m: RegExpExecArray | null
  while (re.lastIndex < text.length && (m = re.exec(text))) {
    if (m[1]) tokens.push({ kind: 'lp', value: '(' })
    else if (m[2]) tokens.push({ kind: 'rp', value: ')' })
    else if (m[3] !== undefined || m[4] !== undefined) tokens.push({ kind: 'str', value: m[3] ?? m[4] })
    else if (m[5]) tokens.push({ kind: 'op', value: m[5].replace(/\s+/, ' ') })
    else if (m[6]) tokens.push({ kind: 'and', value: 'and' })
    else if (m[7]) tokens.push({ kind: 'or', value: 'or' })
    else if (m[8]) tokens.push({ kind: 'var', value: m[8] })
    if (text.slice(re.lastIndex).trim() === '') break
  }
  return tokens
}

/** Whether `marker` holds in `env`; an unreadable marker counts as true (the line is kept, not dropped). */
export function evaluateMarker (marker: string, env: MarkerEnv): boolean {
  const tokens = tokenize(marker)
  let i = 0
  const value = (t: Token): [string, boolean] => t.kind === 'var' ? [env[t.value] ?? '', VERSION_VARS.has(t.value)] : [t.value, false]
  const atom = (): boolean => {
    const t = tokens[i++]
    if (!t) throw new Error('unexpected end')
    if (t.kind === 'lp') {
      const v = or()
      if (tokens[i++]?.kind !== 'rp') throw new Error('missing )')
      return v
    }
    const op = tokens[i++]
    const right = tokens[i++]
    if (!op || op.kind !== 'op' || !right) throw new Error('bad comparison')
    const [l, lv] = value(t)
    const [r, rv] = value(right)
    return compare(l, op.value, r, lv || rv)
  }
  const and = (): boolean => {
    let v = atom()
    while (tokens[i]?.kind === 'and') { i++; const w = atom(); v = v && w }
    return v
  }
  const or = (): boolean => {
    let v = and()
    while (tokens[i]?.kind === 'or') { i++; const w = and(); v = v || w }
    return v
  }
  try {
    const result = or()
    return i === tokens.length ? result : true
  } catch {
    return true
  }
}
