/**
 * What a venv really has, asked of its own Python (importlib.metadata), so tests do not depend on pip
 * being in the venv (uv makes venvs without it) nor on comfydock's own reading of site-packages.
 */
import { execFileSync } from 'node:child_process'
import { delimiter, join } from 'node:path'
import { existsSync } from 'node:fs'

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

