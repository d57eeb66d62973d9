/** @module Finding the base Python interpreter an environment's venv is made from. */
import { ComfydockError } from '../errors'
import { run } from '../exec'

export interface Interpreter {
  /** Absolute path (sys.executable), so a PATH change later does not switch interpreters. */
  path: string
  /** major.minor */
  version: string
}

const PROBE = 'import sys; print(sys.executable); print("%d.%d" % sys.version_info[:2])'

async function probe (cmd: string): Promise<Interpreter | null> {
  try {
    const res = await run(cmd, ['-c', PROBE], { allowFailure: true })
    if (res.code !== 0) return null
    const [path, version] = res.stdout.trim().split('\n')
    return path && /^\d+\.\d+$/.test(version ?? '') ? { path: path.trim() || cmd, version } : null
  } catch {
    return null
  }
}

export interface InterpreterRequest {
  /** A version like "3.11": looks for python3.11, then python3 / python of that version. */
  version?: string
  /** An explicit interpreter; wins over `version`. */
  path?: string
}

export async function findInterpreter (req: InterpreterRequest = {}): Promise<Interpreter> {
  if (req.path) {
    const found = await probe(req.path)
    if (!found) {
      throw new ComfydockError('PYTHON_NOT_FOUND', `"${req.path}" is not a working Python interpreter`, {
        hint: 'Pass the path of a python executable, e.g. `--python-path /usr/bin/python3`.',
      })
    }
    return found
  }
  if (req.version) {
    if (!/^\d+\.\d+(\.\d+)?$/.test(req.version)) {
      throw new ComfydockError('INVALID_ARGUMENT', `"${req.version}" is not a Python version`, { hint: 'Use a version like `--python 3.11`.' })
    }
    const want = req.version.split('.').slice(0, 2).join('.')
    for (const cmd of [`python${want}`, 'python3', 'python']) {
      const found = await probe(cmd)
      if (found?.version === want) return found
    }
    throw new ComfydockError('PYTHON_NOT_FOUND', `no Python ${want} interpreter found on PATH (looked for python${want}, python3, python)`, {
      hint: `Install Python ${want}, or name an interpreter with \`--python-path /path/to/python\`.`,
    })
  }
  for (const cmd of ['python3', 'python']) {
    const found = await probe(cmd)
    if (found) return found
  }
  throw new ComfydockError('PYTHON_NOT_FOUND', 'no python3 or python found on PATH', {
    hint: 'Install Python 3 (e.g. `apt-get install python3 python3-venv`), or pass `--python-path`.',
  })
}
