/**
 * `node add` of a registry pack whose zip is already in the workspace cache, against a plain
 * `unzip` + `pip install -r requirements.txt` of the same zip into an equally warm venv. Both install
 * the same three local wheels (uninstalled again, untimed, before every run). Printed, not asserted.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { writeManifest } from '../sidecar/manifest'
import { addNodes, removeNodes } from '../sidecar/nodes'
import { Workspace } from '../sidecar/workspace'
import { startRegistryServer } from '../test/support/registry-server'
import { buildWheel, localIndexEnv } from '../test/support/wheels'
import { printRows } from './report'

const root = mkdtempSync(join(tmpdir(), 'nodes-bench-'))
const server = await startRegistryServer()
try {
  const wheels = join(root, 'wheels')
  const deps = ['bench-dep-a', 'bench-dep-b', 'bench-dep-c']
  for (const d of deps) await buildWheel(wheels, { name: d, version: '1.0' })
  Object.assign(process.env, localIndexEnv([wheels]))
  // A pack of 200 source files (~2 MB) with three requirements.
  const files: Record<string, string> = { '__init__.py': 'NODE_CLASS_MAPPINGS = {}\n', 'requirements.txt': deps.join('\n') + '\n' }
  for (let i = 0; i < 200; i++) files[`nodes/mod_${i}.py`] = `# module ${i}\n` + 'def f(x):\n    return x * 2\n'.repeat(500)
  await server.addPack({ id: 'bench-pack', versions: [{ version: '1.0.0', files }] })

  const { workspace: ws } = await Workspace.init(join(root, 'ws'))
  await ws.setConfig('registry_url', server.url)
  const env = ws.env('bench')
  mkdirSync(env.customNodes, { recursive: true })
  await writeManifest(env.pyproject, { project: { name: 'comfydock-env-bench', version: '0.1.0', dependencies: [] }, tool: { comfydock: {} } })
  execFileSync('python3', ['-m', 'venv', env.venv])
  const refVenv = join(root, 'ref-venv')
  execFileSync('python3', ['-m', 'venv', refVenv])
  const zip = join(root, 'pack.zip')
  const { writeFileSync } = await import('node:fs')
  writeFileSync(zip, server.zipOf('bench-pack', '1.0.0'))

  const uninstall = (venv: string) => execFileSync(join(venv, 'bin', 'python'), ['-m', 'pip', 'uninstall', '-y', '-q', ...deps], { stdio: 'ignore' })
  const ours = async (warm = true) => {
    const out = await addNodes(ws, env, ['bench-pack@1.0.0'])
    if (!out.ok || (warm && !out.results[0].cached)) throw new Error(`bench add failed: ${JSON.stringify(out.results[0].error ?? 'not from cache')}`)
  }
  const reference = () => {
    const dir = join(root, 'ref-pack')
    rmSync(dir, { recursive: true, force: true })
    execFileSync('unzip', ['-q', zip, '-d', dir])
    execFileSync(join(refVenv, 'bin', 'python'), ['-m', 'pip', 'install', '-q', '-r', join(dir, 'requirements.txt')])
  }
  // Warm-up: fills the archive cache, pip's wheel cache and the registry answer cache.
  await ours(false)
  await removeNodes(ws, env, ['bench-pack'])
  reference()

  const runs = 5
  const oursMs: number[] = []
  const refMs: number[] = []
  for (let i = 0; i < runs; i++) {
    uninstall(env.venv)
    let t = performance.now()
    await ours()
    oursMs.push(performance.now() - t)
    await removeNodes(ws, env, ['bench-pack'])
    uninstall(refVenv)
    t = performance.now()
    reference()
    refMs.push(performance.now() - t)
  }
  const med = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  printRows('node add of a cached pack (200 files, 3 requirements)', [
    { name: 'comfydock node add (cache hit + pip install)', ours: med(oursMs), reference: med(refMs), referenceName: 'unzip + pip install -r' },
  ])
} finally {
  await server.stop()
  rmSync(root, { recursive: true, force: true })
}
