/**
 * A Python installation of the test's own, standing in for the machine's system Python with packages of
 * its own (a distribution's torch) that a venv made with --system-site-packages sees. It is the machine's
 * python3 executable copied into a new prefix whose lib/pythonX.Y links to the real standard library, so
 * Python finds its prefix there and its site-packages is the prefix's own (installing into it touches
 * nothing of the real interpreter).
 */
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs'
import { basename, join } from 'node:path'

export interface SystemPython {
  /** The interpreter, for `--python-path`. */
  python: string
  /** Where its own packages go (the first folder of site.getsitepackages()). */
  sitePackages: string
}

const PROBE = 'import os, sys, sysconfig\nprint(os.path.realpath(sys.executable))\nprint(sysconfig.get_paths()["stdlib"])'

export function makeSystemPython (dir: string): SystemPython {
  const [executable, stdlib] = execFileSync('python3', ['-c', PROBE], { encoding: 'utf8' }).trim().split('\n')
  const lib = join(dir, 'lib', basename(stdlib))
  mkdirSync(join(dir, 'bin'), { recursive: true })
  mkdirSync(lib, { recursive: true })
  const python = join(dir, 'bin', basename(executable))
  copyFileSync(executable, python)
  for (const entry of readdirSync(stdlib)) {
    if (entry !== 'site-packages' && entry !== 'dist-packages') symlinkSync(join(stdlib, entry), join(lib, entry))
  }
  const sitePackages = execFileSync(python, ['-c', 'import site; print(site.getsitepackages()[0])'], { encoding: 'utf8' }).trim()
  if (!sitePackages.startsWith(dir)) throw new Error(`the stand-in system Python at ${python} reads packages from ${sitePackages}, not its own prefix`)
  mkdirSync(sitePackages, { recursive: true })
  return { python, sitePackages }
}

/** Installs a (pure-Python) wheel into the system Python's own site-packages, as a distribution package would be. */
export function installIntoSystem (sys: SystemPython, wheel: string): void {
  execFileSync(sys.python, ['-c', 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])', wheel, sys.sitePackages])
}
