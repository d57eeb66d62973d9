/**
 * @module The one check for a value that becomes a path component (pack folder, dev node, workflow,
 * environment, model category and file name). Such values come from manifests, bundles and servers, so
 * they are checked where they are parsed (the manifest schema) AND where they are joined onto a folder.
 * The rules are portable: a bundle made on Linux must not turn into a device or a drive on Windows.
 */
import { join } from 'node:path'
import { ComfydockError } from '../errors'

/** Windows reserves these names with any extension ("nul.json"), in every folder. */
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$/i
const MAX_COMPONENT_BYTES = 255

/** Why `value` is not one safe path component, or undefined when it is. */
export function pathComponentProblem (value: unknown): string | undefined {
  if (typeof value !== 'string') return 'not a string'
  if (value === '') return 'empty'
  if (value === '.' || value === '..') return 'names a folder, not an entry in it'
  if (value.includes('/')) return 'contains "/"'
  if (value.includes('\\')) return 'contains "\\"'
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'contains a control character'
  if (/^[A-Za-z]:/.test(value)) return 'starts with a drive letter'
  if (WINDOWS_DEVICE.test(value.split('.')[0].trimEnd())) return 'is a Windows device name'
  if (Buffer.byteLength(value, 'utf8') > MAX_COMPONENT_BYTES) return `longer than ${MAX_COMPONENT_BYTES} bytes`
  if (process.platform === 'win32') {
    if (/[<>:"|?*]/.test(value)) return 'contains a character Windows forbids in names'
    if (/[. ]$/.test(value)) return 'ends with a dot or a space'
  }
  return undefined
}

function unsafe (value: unknown, what: string, why: string): ComfydockError {
  return new ComfydockError('UNSAFE_PATH', `${what} ${JSON.stringify(value)} is not a safe name: ${why}`, {
    hint: 'A name that becomes a file or folder must be one plain name (no "/", "\\", "..", drive letter or device name). Fix the manifest or ask for a fresh bundle.',
  })
}

/** `value` when it is one safe path component; UNSAFE_PATH otherwise. */
export function safePathComponent (value: string, what = 'name'): string {
  const why = pathComponentProblem(value)
  if (why) throw unsafe(value, what, why)
  return value
}

/** Why `value` is not a safe relative path (`checkpoints/sdxl/x.safetensors`: every component checked), or undefined. */
export function relativePathProblem (value: unknown): string | undefined {
  if (typeof value !== 'string') return 'not a string'
  if (value === '') return 'empty'
  if (value.startsWith('/')) return 'absolute'
  for (const part of value.split('/')) {
    const why = pathComponentProblem(part)
    if (why) return part === '' ? 'has an empty component ("//" or a trailing "/")' : `component ${JSON.stringify(part)}: ${why}`
  }
  return undefined
}

/** `value` when it is a safe relative path made of safe components; UNSAFE_PATH otherwise. */
export function safeRelativePath (value: string, what = 'path'): string {
  const why = relativePathProblem(value)
  if (why) throw unsafe(value, what, why)
  return value
}

/** `root/name` for one safe component `name`. */
export function safeChild (root: string, name: string, what = 'name'): string {
  return join(root, safePathComponent(name, what))
}

/** `root/a/b/c` for a safe relative path. */
export function safeDescendant (root: string, rel: string, what = 'path'): string {
  return join(root, ...safeRelativePath(rel, what).split('/'))
}
