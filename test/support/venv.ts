/**
 * What a venv really has, asked of its own Python (importlib.metadata), so tests do not depend on pip
 * being in the venv (uv makes venvs without it) nor on comfydock's own reading of site-packages.
 */
import { execFileSync } from 'node:child_process'
import { delimiter, join } from 'node:path'
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs'

const FREEZE = 'import importlib.metadata as m, json, sys\n' +
  'print(json.dumps(sorted({(d.metadata["Name"].lower().replace("_", "-").replace(".", "-"), d.version) for d in m.distributions(path=[p for p in sys.path if p.startswith(sys.prefix)])})))'

/** name==version of every distribution in the venv's own site-packages (a `pip freeze` that needs no pip). */
export function venvFreeze (venv: string): string[] {
  const out = execFileSync(join(venv, 'bin', 'python'), ['-c', FREEZE], { encoding: 'utf8' })
  return (JSON.parse(out) as Array<[string, string]>).map(([n, v]) => `${n}==${v}`)
}

/** name -> version of the venv's own distributions. */
export function venvVersions (venv: string): Record<string, string> {
  return Object.fromEntries(venvFreeze(venv).map(line => line.split('==') as [string, string]))
}

/** The installer a new environment gets with the current PATH: the folder holding `uv`, if any. */
export function uvDirOnPath (): string | undefined {
  return (process.env.PATH ?? '').split(delimiter).find(dir => dir && existsSync(join(dir, 'uv')))
}

/** PATH without any folder that holds uv: how a machine without uv looks to comfydock. */
export function pathWithoutUv (): string {
  return (process.env.PATH ?? '').split(delimiter).filter(dir => !dir || !existsSync(join(dir, 'uv'))).join(delimiter)
}


const BASE_INFO = 'import os, sys, sysconfig\n' +
  'print(os.path.realpath(sys.executable)); print(sysconfig.get_path("stdlib")); print(f"{sys.version_info[0]}.{sys.version_info[1]}")'

/**
 * A Python installation of the test's own, for venvs made with --system-site-packages on top of it: a
 * copy of python3's executable whose prefix is `dir`, with the standard library linked in and empty
 * package folders of its own (the ones its site module reads), so a test can change the base's
 * packages without touching the machine's. `site` is the first of those folders.
 */
export function makeBaseInterpreter (dir: string): { python: string, site: string } {
  const [exe, stdlib, version] = execFileSync('python3', ['-c', BASE_INFO], { encoding: 'utf8' }).trim().split('\n')
  const lib = join(dir, 'lib', `python${version}`)
  mkdirSync(join(dir, 'bin'), { recursive: true })
  mkdirSync(lib, { recursive: true })
  // a copy, not a link: Python finds its prefix from where the executable really is
  const python = join(dir, 'bin', `python${version}`)
  copyFileSync(exe, python)
  chmodSync(python, 0o755)
  for (const entry of readdirSync(stdlib)) {
    if (entry !== 'site-packages' && entry !== 'dist-packages') symlinkSync(join(stdlib, entry), join(lib, entry))
  }
  const sites = JSON.parse(execFileSync(python, ['-c', 'import json, site; print(json.dumps(site.getsitepackages()))'], { encoding: 'utf8' })) as string[]
  for (const site of sites) {
    if (!site.startsWith(dir)) throw new Error(`${python} reads packages from ${site}, outside ${dir}`)
    mkdirSync(site, { recursive: true })
  }
  return { python, site: sites[0] }
}
