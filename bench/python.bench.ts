/**
 * The Python layer, ours against the installers run by hand, printed side by side (nothing asserted):
 * - `comfydock status` warm (the CLI, end to end) against the installer's own dry run of the same
 *   requirements, which is what status ran before it compared the venv with the lock (goal < 300 ms);
 * - `node add` of a cached pack with uv against `uv pip install -r requirements.txt` of the same
 *   requirements into an equally warm venv without them (goal ≥ 1.0×), and the same with pip.
 * Real packages from PyPI, cached once (the first round is a warm-up, untimed); the two sides of a
 * `node add` row take turns, nine rounds each.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { writeManifest } from '../sidecar/manifest'
import { addNodes, removeNodes } from '../sidecar/nodes'
import { findOnPath, writeLocalSettings } from '../sidecar/python'
import { Workspace } from '../sidecar/workspace'
import { startRegistryServer } from '../test/support/registry-server'
import { interleavedMedians, median, printRows, time } from './report'

const CLI = join(import.meta.dirname, '..', 'dist', 'cli.js')
const REQS = ['requests==2.31.0', 'six==1.16.0', 'iniconfig==2.0.0']
const PKGS = ['requests', 'six', 'iniconfig', 'urllib3', 'idna', 'certifi', 'charset-normalizer']
const ROUNDS = 9

// other work on the machine moves every figure here: the load is printed with them
const loadAtStart = loadavg()[0]
const root = mkdtempSync(join(tmpdir(), 'python-bench-'))
process.env.UV_CACHE_DIR = join(root, 'uv-cache')
process.env.PIP_CACHE_DIR = join(root, 'pip-cache')
const uv = await findOnPath('uv')
const server = await startRegistryServer([{ id: 'bench-py', versions: [{ version: '1.0.0', files: { '__init__.py': '', 'requirements.txt': REQS.join('\n') + '\n' } }] }])
try {
  execFileSync(process.execPath, [join(import.meta.dirname, '..', 'build.mjs')], { stdio: 'ignore' })
  const { workspace: ws } = await Workspace.init(join(root, 'ws'))
  await ws.setConfig('registry_url', server.url)
  const reqFile = join(root, 'requirements.txt')
  writeFileSync(reqFile, REQS.join('\n') + '\n')

  for (const installer of uv ? ['uv', 'pip'] as const : ['pip'] as const) {
    const env = ws.env(installer)
    mkdirSync(env.customNodes, { recursive: true })
    await writeManifest(env.pyproject, { project: { name: `comfydock-env-${installer}`, version: '0.1.0', 'requires-python': '>=3.10', dependencies: [] }, tool: { comfydock: {} } })
    await writeLocalSettings(env, { installer })
    execFileSync('git', ['init', '-q', env.cec])
    const refVenv = join(root, `ref-${installer}`)
    if (installer === 'uv') execFileSync(uv!, ['venv', '-q', refVenv])
    else execFileSync('python3', ['-m', 'venv', refVenv])
    const refPython = join(refVenv, 'bin', 'python')
    const ours = async () => {
      const out = await addNodes(ws, env, ['bench-py@1.0.0'])
      if (!out.ok) throw new Error(`bench add failed: ${JSON.stringify(out.results[0].error)}`)
    }
    const reference = () => installer === 'uv'
      ? execFileSync(uv!, ['pip', 'install', '-q', '--python', refPython, '-r', reqFile])
      : execFileSync(refPython, ['-m', 'pip', 'install', '-q', '-r', reqFile])
    // node remove uninstalls what nothing needs, so both sides start each run from a venv without the packages
    const uninstallRef = () => {
      if (installer === 'uv') execFileSync(uv!, ['pip', 'uninstall', '-q', '--python', refPython, ...PKGS])
      else execFileSync(refPython, ['-m', 'pip', 'uninstall', '-y', '-q', ...PKGS])
    }
    // warm-up: the pack archive, the registry answer and the installer caches
    await ours()
    await removeNodes(ws, env, ['bench-py'])
    reference()
    uninstallRef()
    const oursMs: number[] = []
    const refMs: number[] = []
    // both sides wait on the index for most of their time: nine turns each keep one slow answer out of the medians
    for (let i = 0; i < ROUNDS; i++) {
      oursMs.push((await time(ours)).ms)
      await removeNodes(ws, env, ['bench-py'])
      refMs.push((await time(reference)).ms)
      uninstallRef()
    }
    const med = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]
    printRows(`node add of a cached pack (${REQS.length} requirements, 7 packages) with ${installer}`, [
      { name: `comfydock node add (${installer})`, ours: med(oursMs), reference: med(refMs), referenceName: `${installer} install -r`, goal: '≥ 1.0x' },
    ])

    // status: add the pack for good, commit, then time the whole CLI, warm
    await ours()
    execFileSync('git', ['-C', env.cec, 'add', '-A'])
    execFileSync('git', ['-C', env.cec, '-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-qm', 'bench'])
    const statusEnv: NodeJS.ProcessEnv = { ...process.env, PATH: [uv ? join(uv, '..') : '', process.env.PATH].filter(Boolean).join(delimiter) }
    const status = () => execFileSync(process.execPath, [CLI, '--workspace', ws.root, '-e', installer, 'status', '--json'], { env: statusEnv })
    // Node 20 reads the file NODE_EXTRA_CA_CERTS names at startup, before any of our code runs (about
    // 40 ms for this VM's 150 certificates): the same run without it shows what is left that is ours
    const { NODE_EXTRA_CA_CERTS: _ca, ...withoutCa } = statusEnv
    const statusWithoutCa = () => execFileSync(process.execPath, [CLI, '--workspace', ws.root, '-e', installer, 'status', '--json'], { env: withoutCa })
    const dryRun = () => installer === 'uv'
      ? execFileSync(uv!, ['pip', 'install', '--dry-run', '-q', '--python', join(env.venv, 'bin', 'python'), '-r', reqFile])
      : execFileSync(join(env.venv, 'bin', 'python'), ['-m', 'pip', 'install', '--dry-run', '-q', '-r', reqFile])
    status() // the first status after the add checks the venv in full and records it
    // with and without the CA file in turn, so both see the same load
    const [statusMs, withoutCaMs] = process.env.NODE_EXTRA_CA_CERTS ? await interleavedMedians(9, [status, statusWithoutCa]) : [await median(9, status), undefined]
    const dryMs = await median(5, dryRun)
    printRows(`status, warm (${installer} environment)`, [
      { name: 'comfydock status --json (whole CLI)', ours: statusMs, reference: dryMs, referenceName: `${installer} install --dry-run`, goal: '< 300 ms' },
      ...(withoutCaMs === undefined ? [] : [{ name: 'same, NODE_EXTRA_CA_CERTS unset', ours: withoutCaMs, reference: dryMs, referenceName: `${installer} install --dry-run`, goal: '(printed)' }]),
    ])
  }
  console.log(`\nload average (1 min): ${loadAtStart.toFixed(2)} at the start, ${loadavg()[0].toFixed(2)} at the end`)
} finally {
  await server.stop()
  rmSync(root, { recursive: true, force: true })
}
