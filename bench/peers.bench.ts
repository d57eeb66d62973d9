/**
 * Side by side with the peer tools (`npm run bench -- peers`): the same work done by comfydock and by
 * comfydock-cli 1.0.11 (`cfd`) and ComfyGit 0.7.1 (`cg`), each through its own command line, on this
 * machine, in the same world (test/support/peer-world.ts: the sample ComfyUI at v0.3.7, a loopback
 * registry with the same pack, the same model files). Hosts the peers hard-code are answered by the HTTPS
 * stand-in; nothing leaves the machine but the one-time install of the tools from PyPI.
 *
 * Steps, each timed per tool: create an environment; add a registry pack already in the tool's cache (added
 * and removed once, untimed, before); track, resolve and commit a workflow; export; import that export as a
 * new environment with every model already local (nothing downloaded); index 2,000 model files added to the
 * models folder; status. Then ComfyUI-Manager's `cm-cli save-snapshot` against our
 * `export --format comfyui-manager-snapshot` of the same environment.
 *
 * Correctness first: after each step both sides are checked for the same state (the same packs at the same
 * versions, the same models resolved and indexed, a clean status); a difference is printed as MISMATCH and
 * the bench exits non-zero. Times are the median of PEERS_ROUNDS rounds (default 3), each in fresh
 * workspaces, the tools taking turns within a step. Printed, never asserted. comfy-cli and cm-cli, which
 * keep one ComfyUI folder rather than environments, get a fourth column for what they can do.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parse as parseToml } from 'smol-toml'
import { startStandIn } from '../test/support/https-stand-in'
import { CM_CLI_MAIN, peerVenv, peerVersion, scratchDir, TORCHVISION_DOWNLOAD } from '../test/support/peer-tools'
import { COMFYUI_GITHUB, makePeerWorld, modelBytes, peerNodeMappings, REGISTRY_PACK, worldGitRepos } from '../test/support/peer-world'
import { buildWheel } from '../test/support/wheels'

const ROUNDS = Math.max(1, Number.parseInt(process.env.PEERS_ROUNDS ?? '3', 10) || 3)
const MANY = 2000
const CLI = resolve('dist', 'cli.js')
const ENV = 'bench'
const COPY = 'copy'

type Tool = 'ours' | 'cfd' | 'cg'
const TOOLS: Tool[] = ['ours', 'cfd', 'cg']
const LABEL: Record<Tool, string> = { ours: 'comfydock', cfd: `cfd ${peerVersion('cfd')}`, cg: `cg ${peerVersion('cg')}` }

const STEPS = ['create', 'add', 'workflow', 'export', 'import', 'index', 'status'] as const
type Step = typeof STEPS[number]
const STEP_NAME: Record<Step, string> = {
  create: 'create an environment (ComfyUI v0.3.7)',
  add: 'add a cached registry pack',
  workflow: 'track + resolve + commit a workflow',
  export: 'export',
  import: 'import that export (models local)',
  index: `index ${MANY.toLocaleString('en')} model files`,
  status: 'status',
}

let mismatches = 0
function mismatch (what: string): void {
  mismatches++
  console.log(`\n  !!! MISMATCH: ${what}\n`)
}

interface Ran { ms: number, code: number, out: string }

/** Runs a command without blocking this process (the registry and the stand-in answer from here). */
function run (cmd: string, args: string[], env: NodeJS.ProcessEnv, input = '', cwd?: string): Promise<Ran> {
  const t0 = performance.now()
  const child = spawn(cmd, args, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (c: Buffer) => { out += c.toString() })
  child.stderr.on('data', (c: Buffer) => { out += c.toString() })
  child.stdin.end(input)
  return new Promise(resolve => child.on('close', code => resolve({ ms: performance.now() - t0, code: code ?? 1, out })))
}

/** A tool's command failing is a broken bench, not a number: stop with its last words. */
function must (tool: Tool, what: string, r: Ran): Ran {
  if (r.code !== 0) {
    const tail = r.out.replace(/\r/g, '\n').split('\n').filter(Boolean).slice(-25).join('\n')
    throw new Error(`${LABEL[tool]}: ${what} failed (exit ${r.code}):\n${tail}`)
  }
  return r
}

/** The portrait workflow: two checkpoints and the registry pack's node, all known to every tool here. */
const WORKFLOW = {
  last_node_id: 3,
  last_link_id: 0,
  nodes: [
    { id: 1, type: 'CheckpointLoaderSimple', pos: [0, 0], size: [300, 100], flags: {}, order: 0, mode: 0, properties: { 'Node name for S&R': 'CheckpointLoaderSimple' }, widgets_values: ['fixture_base.safetensors'] },
    { id: 2, type: 'CheckpointLoaderSimple', pos: [0, 200], size: [300, 100], flags: {}, order: 1, mode: 0, properties: { 'Node name for S&R': 'CheckpointLoaderSimple' }, widgets_values: ['fixture_refiner.safetensors'] },
    { id: 3, type: 'FixtureRegistryNode', pos: [400, 0], size: [300, 100], flags: {}, order: 2, mode: 0, properties: { cnr_id: REGISTRY_PACK, ver: '1.1.0' }, widgets_values: [] },
  ],
  links: [],
  groups: [],
  config: {},
  extra: {},
  version: 0.4,
}
const WORKFLOW_MODELS = ['fixture_base.safetensors', 'fixture_refiner.safetensors']

function writeSmallModels (dir: string, writeWorld: (d: string) => void): void {
  writeWorld(dir)
  mkdirSync(join(dir, 'checkpoints'), { recursive: true })
  writeFileSync(join(dir, 'checkpoints', 'fixture_refiner.safetensors'), modelBytes(200_000, 17))
}

/** 2,000 distinct model files (128 KB to 256 KB, ~190 MB) in eight categories, made once and hard-linked into each models folder. */
function writeManyModels (dir: string): string[] {
  const cats = ['checkpoints', 'loras', 'vae', 'controlnet', 'upscale_models', 'embeddings', 'clip', 'unet']
  const rels: string[] = []
  for (let i = 0; i < MANY; i++) {
    const rel = join(cats[i % cats.length], `bench_${String(i).padStart(4, '0')}.safetensors`)
    const size = 4 * (32768 + ((i * 7919) % 32768))
    const b = Buffer.alloc(size)
    for (let j = 0; j < size; j += 4) b.writeUInt32LE((Math.imul(i + 1, 2654435761) ^ Math.imul(j, 40503)) >>> 0, j)
    mkdirSync(join(dir, rel, '..'), { recursive: true })
    writeFileSync(join(dir, rel), b)
    rels.push(rel)
  }
  return rels
}

type Manifest = Record<string, any>
const readToml = (file: string): Manifest => parseToml(readFileSync(file, 'utf8')) as Manifest

/** What a tool's manifest says: packs by id with versions, and the workflow's models with their status. */
function manifestState (tool: Tool, envDir: string): { packs: Record<string, string>, models: Record<string, string> } {
  const doc = readToml(join(envDir, '.cec', 'pyproject.toml'))
  const t = tool === 'cg' ? doc.tool?.comfygit : doc.tool?.comfydock
  const packs: Record<string, string> = {}
  for (const [id, n] of Object.entries((t?.nodes ?? {}) as Record<string, { version?: string, source?: string }>)) packs[id] = String(n.version ?? '')
  const models: Record<string, string> = {}
  for (const m of (t?.workflows?.portrait?.models ?? []) as Array<{ filename: string, status: string }>) models[m.filename] = m.status
  return { packs, models }
}

/** The registry pack on disk (each tool names its folder its own way): the version in its pyproject.toml. */
function packOnDisk (envDir: string): string | null {
  const nodes = join(envDir, 'ComfyUI', 'custom_nodes')
  for (const name of existsSync(nodes) ? readdirSync(nodes) : []) {
    const file = join(nodes, name, 'pyproject.toml')
    if (!existsSync(file)) continue
    const doc = readToml(file)
    if (doc.project?.name === REGISTRY_PACK) return String(doc.project.version)
  }
  return null
}

/** Every side ended with what ours has (and the fourth column too, when given); said once, when it holds. */
const checked = new Set<string>()
function same (step: Step, what: string, got: Record<Tool, unknown>, other?: unknown): void {
  const want = JSON.stringify(got.ours)
  let ok = true
  for (const tool of TOOLS) {
    if (JSON.stringify(got[tool]) !== want) { ok = false; mismatch(`${STEP_NAME[step]}: ${what}: ${LABEL.ours} ${want}, ${LABEL[tool]} ${JSON.stringify(got[tool])}`) }
  }
  if (other !== undefined && JSON.stringify(other) !== want) { ok = false; mismatch(`${STEP_NAME[step]}: ${what}: ${LABEL.ours} ${want}, ${OTHER} ${JSON.stringify(other)}`) }
  if (ok && !checked.has(what)) { checked.add(what); console.log(`    same on every side: ${what} ${want.length > 80 ? want.slice(0, 77) + '...' : want}`) }
}

function awaitSync (cmd: string, args: string[]): Ran {
  const t0 = performance.now()
  const r = spawnSync(cmd, args, { encoding: 'utf8' })
  return { ms: performance.now() - t0, code: r.status ?? 1, out: (r.stdout ?? '').trim() + (r.status ? r.stderr : '') }
}

/** cm-cli often exits 0 after a failure it only printed. */
function mustCm (what: string, r: Ran): Ran {
  if (r.code !== 0 || /Failed to|ERROR|Traceback/.test(r.out)) throw new Error(`cm-cli ${what} failed (exit ${r.code}):\n${r.out.slice(-3000)}`)
  return r
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const scratch = scratchDir()
const root = join(scratch, 'bench-peers')
rmSync(root, { recursive: true, force: true })
mkdirSync(root, { recursive: true })
if (!existsSync(CLI)) must('ours', 'build', await run(process.execPath, ['build.mjs'], process.env))
console.log(`Installing (first run only) and checking the peer tools in ${join(scratch, 'venvs')}...`)
const venvs = { cfd: peerVenv('cfd'), cg: peerVenv('cg'), mgr: peerVenv('mgr'), ccli: peerVenv('ccli') }
const world = await makePeerWorld(join(root, 'world'))
const standIn = await startStandIn({ dir: root, wheels: world.findLinks, registryUrl: world.registry.url, comfyuiTags: world.comfyui.tags, nodeMappings: peerNodeMappings(world), gitRepos: worldGitRepos(world) })
const manyDir = join(root, 'many-models')
const manyRels = writeManyModels(manyDir)

// The peers' environment: PyPI-free installs from the world's wheels, their fixed hosts through the stand-in.
// Ours: the same wheels through pip/uv's index settings, ComfyUI and the registry from the workspace config.
const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(PIP|UV)_/.test(k)))
const uvPath = `/opt/uv/bin:${process.env.PATH ?? ''}`
const peerBase = { ...base, ...standIn.env, PATH: uvPath, UV_FIND_LINKS: world.findLinks, PIP_FIND_LINKS: world.findLinks, NO_COLOR: '1', CI: '1' }

const times: Record<Step, Record<Tool, number[]>> = Object.fromEntries(STEPS.map(s => [s, { ours: [], cfd: [], cg: [] }])) as never
const snapshotTimes = { ours: [] as number[], mgr: [] as number[] }

/**
 * The fourth column: comfy-cli and ComfyUI-Manager's cm-cli, which manage one ComfyUI folder and the Python it
 * runs with, not environments. `comfy install` makes ComfyUI and a venv; cm-cli adds a registry pack and
 * writes a snapshot. What they have no command for is said instead of a number.
 */
const OTHER = `comfy-cli ${peerVersion('ccli')} / cm-cli ${peerVersion('mgr')}`
const otherTimes: Partial<Record<Step, number[]>> = { create: [], add: [], import: [] }
const otherCannot: Partial<Record<Step, string>> = {
  workflow: 'no workflow tracking',
  export: 'snapshot only (row below)',
  index: 'no model index',
  status: 'no manifest to check',
}
// A ComfyUI venv has torchvision, whose download_url ComfyUI-Manager borrows for registry archives.
const shims = join(root, 'shims')
await buildWheel(shims, { name: 'torchvision', version: '0.20.1', files: { 'datasets/__init__.py': '', 'datasets/utils.py': TORCHVISION_DOWNLOAD } })

try {
  for (let round = 0; round < ROUNDS; round++) {
    console.log(`\nround ${round + 1} of ${ROUNDS}`)
    const dir = join(root, `round-${round}`)
    const ws: Record<Tool, string> = { ours: join(dir, 'ours'), cfd: join(dir, 'cfd'), cg: join(dir, 'cg') }
    const models: Record<Tool, string> = { ours: join(ws.ours, 'models'), cfd: join(dir, 'cfd-models'), cg: join(dir, 'cg-models') }
    const env: Record<Tool, NodeJS.ProcessEnv> = {
      ours: { ...base, ...world.comfyui.indexEnv, PATH: uvPath, NO_COLOR: '1' },
      cfd: { ...peerBase, ...world.gitEnv, COMFYDOCK_HOME: ws.cfd },
      cg: { ...peerBase, COMFYGIT_HOME: ws.cg },
    }
    const cmd = (tool: Tool, args: string[], input = ''): Promise<Ran> => tool === 'ours'
      ? run(process.execPath, [CLI, '--workspace', ws.ours, ...args], env.ours, input)
      : run(venvs[tool].bin, args, env[tool], input)
    const envDir = (tool: Tool, name = ENV) => join(ws[tool], 'environments', name)

    // Untimed: workspaces with the small models indexed.
    must('ours', 'init', await cmd('ours', ['init']))
    for (const tool of TOOLS) writeSmallModels(models[tool], d => world.writeModels(d))
    must('ours', 'config', await cmd('ours', ['config', 'comfyui_source', world.comfyui.url]))
    must('ours', 'config', await cmd('ours', ['config', 'registry_url', world.registry.url]))
    must('ours', 'index', await cmd('ours', ['model', 'index', 'sync']))
    must('cfd', 'init', await cmd('cfd', ['init', '-y', '--models-dir', models.cfd]))
    must('cg', 'init', await cmd('cg', ['init', '-y', '--models-dir', models.cg]))

    const step = async (name: Step, args: Record<Tool, string[][]>, inputs: Partial<Record<Tool, string>> = {}): Promise<void> => {
      for (const tool of TOOLS) {
        let ms = 0
        for (const a of args[tool]) ms += must(tool, `${a.join(' ')}`, await cmd(tool, a, inputs[tool] ?? '')).ms
        times[name][tool].push(ms)
      }
      process.stdout.write(`  ${STEP_NAME[name]}: ${TOOLS.map(t => `${LABEL[t]} ${(times[name][t].at(-1)! / 1000).toFixed(2)} s`).join(', ')}\n`)
    }

    await step('create', {
      ours: [['--yes', 'create', ENV, '--comfyui', 'v0.3.7', '--torch-backend', 'cpu']],
      cfd: [['create', ENV, '--comfyui', 'v0.3.7', '--torch-backend', 'cpu']],
      cg: [['create', ENV, '--comfyui', 'v0.3.7', '--torch-backend', 'cpu', '--no-manager', '-y']],
    })

    // comfy-cli: a venv and `comfy install` of the same ComfyUI commit from the same source (GitHub, rewritten to it).
    const comfyInstall = async (folder: string) => {
      const venv = join(folder, 'venv')
      const env = {
        ...base, ...world.gitEnv, ...standIn.env, PATH: `${join(venv, 'bin')}:${uvPath}`, VIRTUAL_ENV: venv, HOME: join(folder, 'home'),
        PIP_NO_INDEX: '1', PIP_FIND_LINKS: world.findLinks, PIP_DISABLE_PIP_VERSION_CHECK: '1', NO_COLOR: '1',
        COMFYUI_PATH: join(folder, 'ComfyUI'), CM_CLI_SITE: venvs.mgr.sitePackages,
      }
      const ms = must('ours', 'python3 -m venv', await run('python3', ['-m', 'venv', venv], env)).ms +
        must('ours', 'comfy install', await run(venvs.ccli.bin, ['--skip-prompt', '--no-enable-telemetry', '--workspace', join(folder, 'ComfyUI'), 'install', '--url', COMFYUI_GITHUB, '--version', 'nightly', '--commit', world.comfyui.tags['v0.3.7'], '--cpu', '--skip-manager'], env)).ms
      const py = join(venv, 'bin', 'python')
      // Untimed: the world's torchvision stub gets the one function ComfyUI-Manager borrows from it.
      must('ours', 'torchvision shim', await run(py, ['-m', 'pip', 'install', '-q', '--force-reinstall', '--no-deps', '--no-index', '--find-links', shims, 'torchvision==0.20.1'], env))
      const cm = (args: string[]) => run(py, ['-c', CM_CLI_MAIN, ...args], env, '', join(folder, 'ComfyUI', 'custom_nodes'))
      return { ms, cm }
    }
    const ccli = join(dir, 'comfy-cli')
    const installed = await comfyInstall(ccli)
    otherTimes.create!.push(installed.ms)
    console.log(`  ${STEP_NAME.create}: ${OTHER} ${(installed.ms / 1000).toFixed(2)} s`)
    const head = (d: string) => must('ours', 'git', awaitSync('git', ['-C', d, 'rev-parse', 'HEAD'])).out
    same('create', 'ComfyUI commit', { ours: head(join(envDir('ours'), 'ComfyUI')), cfd: head(join(envDir('cfd'), 'ComfyUI')), cg: head(join(envDir('cg'), 'ComfyUI')) }, head(join(ccli, 'ComfyUI')))
    const cm = installed.cm

    // The pack into each tool's cache: added and removed once, untimed.
    const add = ['-e', ENV, 'node', 'add', `${REGISTRY_PACK}@1.1.0`]
    for (const tool of TOOLS) {
      must(tool, 'node add', await cmd(tool, tool === 'ours' ? ['--yes', ...add] : add))
      must(tool, 'node remove', await cmd(tool, [...(tool === 'ours' ? ['--yes'] : []), '-e', ENV, 'node', 'remove', REGISTRY_PACK]))
    }
    await step('add', { ours: [['--yes', ...add]], cfd: [add], cg: [add] })
    mustCm('install', await cm(['install', `${REGISTRY_PACK}@1.1.0`]))
    mustCm('uninstall', await cm(['uninstall', REGISTRY_PACK]))
    otherTimes.add!.push(mustCm('install', await cm(['install', `${REGISTRY_PACK}@1.1.0`])).ms)
    console.log(`  ${STEP_NAME.add}: ${OTHER} ${(otherTimes.add!.at(-1)! / 1000).toFixed(2)} s`)
    if (packOnDisk(ccli) !== '1.1.0') mismatch(`add: cm-cli left the pack at ${packOnDisk(ccli)}, not 1.1.0`)
    same('add', 'packs in the manifest', { ours: manifestState('ours', envDir('ours')).packs, cfd: manifestState('cfd', envDir('cfd')).packs, cg: manifestState('cg', envDir('cg')).packs })
    same('add', 'the pack on disk', { ours: packOnDisk(envDir('ours')), cfd: packOnDisk(envDir('cfd')), cg: packOnDisk(envDir('cg')) })

    for (const tool of TOOLS) {
      const wf = join(envDir(tool), 'ComfyUI', 'user', 'default', 'workflows')
      mkdirSync(wf, { recursive: true })
      writeFileSync(join(wf, 'portrait.json'), JSON.stringify(WORKFLOW, null, 2))
    }
    await step('workflow', {
      ours: [['-e', ENV, 'workflow', 'track', 'portrait'], ['-e', ENV, 'workflow', 'resolve', 'portrait'], ['--yes', '-e', ENV, 'commit', '-m', 'Portrait']],
      cfd: [['-e', ENV, 'workflow', 'resolve', 'portrait', '--auto'], ['-e', ENV, 'commit', '-m', 'Portrait']],
      cg: [['-e', ENV, 'workflow', 'resolve', 'portrait', '--auto'], ['-e', ENV, 'commit', '-m', 'Portrait']],
    })
    const resolved = Object.fromEntries(WORKFLOW_MODELS.map(m => [m, 'resolved']))
    same('workflow', 'the workflow\'s models', { ours: manifestState('ours', envDir('ours')).models, cfd: manifestState('cfd', envDir('cfd')).models, cg: manifestState('cg', envDir('cg')).models })
    if (JSON.stringify(manifestState('ours', envDir('ours')).models) !== JSON.stringify(resolved)) mismatch(`workflow: expected ${JSON.stringify(resolved)}`)

    const bundle = (tool: Tool) => join(dir, `${tool}-export.tar.gz`)
    // The peers ask whether to export models that have no download source: yes.
    await step('export', {
      ours: [['--yes', '-e', ENV, 'export', bundle('ours')]],
      cfd: [['-e', ENV, 'export', bundle('cfd')]],
      cg: [['-e', ENV, 'export', bundle('cg')]],
    }, { cfd: 'y\n', cg: 'y\n' })

    // cfd asks for the model strategy: 3, skip (every model is local anyway).
    await step('import', {
      ours: [['--yes', 'import', bundle('ours'), '--name', COPY, '--models', 'skip', '--torch-backend', 'cpu']],
      cfd: [['import', bundle('cfd'), '--name', COPY, '--torch-backend', 'cpu']],
      cg: [['import', bundle('cg'), '--name', COPY, '--torch-backend', 'cpu', '--no-manager', '--models', 'skip', '-y']],
    }, { cfd: '3\n' })
    same('import', 'packs of the imported environment', { ours: manifestState('ours', envDir('ours', COPY)).packs, cfd: manifestState('cfd', envDir('cfd', COPY)).packs, cg: manifestState('cg', envDir('cg', COPY)).packs })
    same('import', 'the pack on disk', { ours: packOnDisk(envDir('ours', COPY)), cfd: packOnDisk(envDir('cfd', COPY)), cg: packOnDisk(envDir('cg', COPY)) })
    same('import', 'the workflow in ComfyUI', Object.fromEntries(TOOLS.map(t => [t, existsSync(join(envDir(t, COPY), 'ComfyUI', 'user', 'default', 'workflows', 'portrait.json'))])) as Record<Tool, boolean>)

    // 2,000 more files in each tool's models folder (hard links: same bytes, no extra disk).
    for (const tool of TOOLS) {
      for (const rel of manyRels) {
        mkdirSync(join(models[tool], rel, '..'), { recursive: true })
        linkSync(join(manyDir, rel), join(models[tool], rel))
      }
    }
    await step('index', { ours: [['model', 'index', 'sync']], cfd: [['model', 'index', 'sync']], cg: [['model', 'index', 'sync']] })
    const counts: Record<Tool, number> = { ours: 0, cfd: 0, cg: 0 }
    counts.ours = JSON.parse(must('ours', 'index status', await cmd('ours', ['model', 'index', 'status', '--json'])).out).models
    for (const tool of ['cfd', 'cg'] as const) {
      const out = must(tool, 'index status', await cmd(tool, ['model', 'index', 'status'])).out
      counts[tool] = Number(/Total Models:\s*(\d+)/.exec(out)?.[1] ?? -1)
    }
    same('index', 'models in the index', counts)

    await step('status', { ours: [['-e', ENV, 'status', '--json']], cfd: [['-e', ENV, 'status']], cg: [['-e', ENV, 'status']] })
    const clean: Record<Tool, boolean> = { ours: false, cfd: false, cg: false }
    clean.ours = JSON.parse(must('ours', 'status', await cmd('ours', ['-e', ENV, 'status', '--json'])).out).ok === true
    for (const tool of ['cfd', 'cg'] as const) {
      const out = must(tool, 'status', await cmd(tool, ['-e', ENV, 'status'])).out
      clean[tool] = /✓ portrait/.test(out) && !/⚠|✗|uncommitted|couldn't|missing|Resolve workflow/i.test(out)
      if (!clean[tool]) console.log(out)
    }
    same('status', 'a clean status', clean)

    // A ComfyUI-Manager snapshot: ours of the environment, cm-cli save-snapshot of the comfy-cli ComfyUI,
    // run as ComfyUI-Manager runs, inside that ComfyUI's venv (it lists that venv's packages).
    const snapOurs = join(dir, 'ours-snapshot.json')
    const snapMgr = join(dir, 'cm-cli-snapshot.json')
    snapshotTimes.ours.push(must('ours', 'snapshot', await cmd('ours', ['--yes', '-e', ENV, 'export', snapOurs, '--format', 'comfyui-manager-snapshot'])).ms)
    snapshotTimes.mgr.push(mustCm('save-snapshot', await cm(['save-snapshot', '--output', snapMgr])).ms)
    const a = JSON.parse(readFileSync(snapOurs, 'utf8'))
    const b = JSON.parse(readFileSync(snapMgr, 'utf8'))
    if (a.comfyui !== b.comfyui) mismatch(`snapshot: ComfyUI ${a.comfyui} vs cm-cli ${b.comfyui}`)
    // comfy install put the machine's torch (the world's stub) into its venv; ours keeps torch machine-local.
    const pips = (s: { pips?: Record<string, string> }) => Object.keys(s.pips ?? {}).filter(p => !/^(pip|setuptools|wheel|torch|torchvision|torchaudio)==/.test(p)).sort()
    if (JSON.stringify(pips(a)) !== JSON.stringify(pips(b))) mismatch(`snapshot: pips ${JSON.stringify(pips(a))} vs cm-cli ${JSON.stringify(pips(b))}`)
    const cnr = (s: { cnr_custom_nodes?: Record<string, string> }) => JSON.stringify(s.cnr_custom_nodes ?? {})
    if (cnr(a) !== cnr(b)) mismatch(`snapshot: registry packs ${cnr(a)} vs cm-cli ${cnr(b)}`)

    // Their import: a new ComfyUI (comfy install) and `cm-cli restore-snapshot` of that snapshot into it.
    const ccliCopy = join(dir, 'comfy-cli-copy')
    const copy = await comfyInstall(ccliCopy)
    const restored = mustCm('restore-snapshot', await copy.cm(['restore-snapshot', snapMgr, '--pip-non-url']))
    otherTimes.import!.push(copy.ms + restored.ms)
    console.log(`  ${STEP_NAME.import}: ${OTHER} ${((copy.ms + restored.ms) / 1000).toFixed(2)} s (comfy install + cm-cli restore-snapshot)`)
    if (packOnDisk(ccliCopy) !== '1.1.0') mismatch(`import: cm-cli restore-snapshot left the pack at ${packOnDisk(ccliCopy)}, not 1.1.0`)
    if (head(join(ccliCopy, 'ComfyUI')) !== head(join(envDir('ours', COPY), 'ComfyUI'))) mismatch('import: cm-cli restore-snapshot left ComfyUI at another commit')
    const freeze = must('ours', 'pip freeze', awaitSync(join(ccliCopy, 'venv', 'bin', 'python'), ['-m', 'pip', 'freeze'])).out.split('\n').map(l => l.trim().toLowerCase())
    const missing = pips(b).filter(p => !freeze.includes(p.toLowerCase()))
    if (missing.length) mismatch(`import: cm-cli restore-snapshot did not install ${missing.join(', ')}`)
  }
} finally {
  await standIn.stop()
  await world.close()
  // Six environments a round and 190 MB of model files: kept only when asked (PEERS_KEEP=1), to look into.
  if (!process.env.PEERS_KEEP) rmSync(root, { recursive: true, force: true })
}

const fmt = (ms: number) => ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 1000).toFixed(2)} s`
const ratio = (ref: number, ours: number) => `${(ref / ours).toFixed(1)}x`
console.log(`\nSide by side (median of ${ROUNDS} round${ROUNDS > 1 ? 's' : ''}; ratio = peer time / ours, above 1 means comfydock is faster)`)
const rows: string[][] = [['step', LABEL.ours, LABEL.cfd, 'ratio', LABEL.cg, 'ratio', OTHER, 'ratio']]
for (const s of STEPS) {
  const m = { ours: median(times[s].ours), cfd: median(times[s].cfd), cg: median(times[s].cg) }
  const other = otherTimes[s]?.length ? median(otherTimes[s]!) : null
  rows.push([STEP_NAME[s], fmt(m.ours), fmt(m.cfd), ratio(m.cfd, m.ours), fmt(m.cg), ratio(m.cg, m.ours), other === null ? otherCannot[s] ?? '—' : fmt(other), other === null ? '' : ratio(other, m.ours)])
}
const so = median(snapshotTimes.ours)
const sm = median(snapshotTimes.mgr)
rows.push(['ComfyUI-Manager snapshot', fmt(so), '—', '', '—', '', `cm-cli: ${fmt(sm)}`, ratio(sm, so)])
const widths = rows[0].map((_, i) => Math.max(...rows.map(r => r[i].length)))
for (const r of rows) console.log('  ' + r.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join('   '))
console.log('\nMarkdown:\n')
console.log(`| ${rows[0].join(' | ')} |`)
console.log(`|${rows[0].map((_, i) => i === 0 ? '---' : '---:').join('|')}|`)
for (const r of rows.slice(1)) console.log(`| ${r.join(' | ')} |`)
if (mismatches) {
  console.log(`\n!!! ${mismatches} MISMATCH${mismatches > 1 ? 'ES' : ''}: the sides did not end in the same state; the times above do not compare like with like.`)
  process.exitCode = 1
} else {
  console.log('\nSame state on every side after every step: packs and versions, workflow models, index counts, clean status.')
}
