/**
 * Makes test/fixtures/peers/ with the real peer tools, in the world of test/support/peer-world.ts (the
 * sample ComfyUI, git packs under https://github.com/comfydock-fixtures/, a loopback registry, model
 * files), so the tests can rebuild the same world and import what the tools wrote. Tools and versions:
 * scripts/peer-fixtures/tools.ts. Usage: `node scripts/peer-fixtures.mjs [mgr] [cfd] [cg] [desktop]`.
 * CI does not run this; it reads the committed files.
 */
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { EXISTING_WORKFLOW, FIXTURE_GITHUB, GIT_PACK, makeExistingInstall, makePeerWorld, MODEL_FILES, peerNodeMappings, REGISTRY_PACK, worldGitRepos, type PeerWorld } from '../../test/support/peer-world'
import { startStandIn } from '../../test/support/https-stand-in'
import { CM_CLI_MAIN, peerVenv, peerVersion, scratchDir } from '../../test/support/peer-tools'

export const FIXTURES = resolve('test/fixtures/peers')

function log (msg: string): void {
  process.stdout.write(`[peer-fixtures] ${msg}\n`)
}

/** cm-cli save-snapshot (JSON and YAML) of an existing install, run with that install's interpreter. */
async function managerSnapshots (world: PeerWorld, scratch: string): Promise<void> {
  const mgr = peerVenv('mgr')
  const dir = join(scratch, 'mgr-install')
  rmSync(dir, { recursive: true, force: true })
  const install = await makeExistingInstall(world, dir)
  const out = join(FIXTURES, 'comfyui-manager-4.3')
  mkdirSync(out, { recursive: true })
  for (const name of ['snapshot.json', 'snapshot.yaml']) {
    // cm-cli records the pip freeze of the interpreter it runs in: the install's venv, as when
    // ComfyUI-Manager runs inside ComfyUI. Its own code is put on sys.path from its scratch venv (not
    // through PYTHONPATH, which the freeze subprocess would inherit), so the freeze lists what the user's
    // venv holds.
    execFileSync(join(install.venv, 'bin', 'python'), ['-c', CM_CLI_MAIN, 'save-snapshot', '--output', join(out, name)], {
      env: { ...process.env, ...world.gitEnv, COMFYUI_PATH: install.comfyui, CM_CLI_SITE: mgr.sitePackages },
      stdio: 'inherit',
    })
  }
  writeFileSync(join(out, 'README.md'), [
    `Written by \`cm-cli save-snapshot --output snapshot.{json,yaml}\` (comfyui-manager ${peerVersion('mgr')}) on the`,
    'existing install of test/support/peer-world.ts `makeExistingInstall`. Made by `node scripts/peer-fixtures.mjs mgr`.',
    '',
  ].join('\n'))
  log(`cm-cli snapshots in ${out}`)
}

/**
 * A ComfyUI Desktop 2.0 export envelope (version 2) of the same kind of install. Desktop is an Electron
 * app that cannot run here, so this follows its published format (Comfy-Org/ComfyUI-Launcher
 * src/main/lib/snapshots: `buildExportEnvelope`, `validateExportEnvelope`, and the pack scanner in
 * src/main/lib/nodes.ts): `.tracking` => cnr (pyproject name/version), `.git` => git (HEAD, origin URL),
 * `*.py` => file, anything under `.disabled/` => enabled false; pipPackages from `uv pip freeze`.
 */
async function desktopSnapshot (world: PeerWorld, scratch: string): Promise<void> {
  const dir = join(scratch, 'desktop-install')
  rmSync(dir, { recursive: true, force: true })
  const install = await makeExistingInstall(world, dir)
  const nodesDir = join(install.comfyui, 'custom_nodes')
  const git = (cwd: string, args: string[]) => execFileSync('git', ['-C', cwd, ...args], { encoding: 'utf8' }).trim()
  const customNodes: Array<Record<string, unknown>> = []
  const scan = (base: string, enabled: boolean) => {
    for (const name of readdirSync(base).sort()) {
      const full = join(base, name)
      if (name === '.disabled' || name === '__pycache__') continue
      if (statSync(full).isDirectory()) {
        if (existsSync(join(full, '.tracking'))) {
          const toml = readFileSync(join(full, 'pyproject.toml'), 'utf8')
          const id = /^name\s*=\s*"([^"]+)"/m.exec(toml)?.[1] ?? name
          const version = /^version\s*=\s*"([^"]+)"/m.exec(toml)?.[1]
          customNodes.push({ id, type: 'cnr', dirName: name, enabled, version })
        } else if (existsSync(join(full, '.git'))) {
          customNodes.push({ id: name, type: 'git', dirName: name, enabled, commit: git(full, ['rev-parse', 'HEAD']), url: git(full, ['remote', 'get-url', 'origin']) })
        }
      } else if (name.endsWith('.py')) {
        customNodes.push({ id: name, type: 'file', dirName: name, enabled })
      }
    }
  }
  scan(nodesDir, true)
  scan(join(nodesDir, '.disabled'), false)
  const freeze = execFileSync(join(install.venv, 'bin', 'python'), ['-m', 'pip', 'freeze', '--disable-pip-version-check'], { encoding: 'utf8' })
  const pipPackages: Record<string, string> = {}
  for (const line of freeze.split('\n')) {
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)==(.+)$/.exec(line.trim())
    if (m) pipPackages[m[1]] = m[2]
  }
  const commit = git(install.comfyui, ['rev-parse', 'HEAD'])
  const snapshot = {
    version: 2,
    createdAt: '2026-11-30T10:00:00.000Z',
    trigger: 'manual',
    label: 'Before sharing',
    comfyui: { ref: 'v0.3.7', commit, releaseTag: 'v0.3.7', variant: 'linux-cpu', baseTag: 'v0.3.7', commitsAhead: 0 },
    customNodes,
    pipPackages,
    pythonVersion: '3.11.7',
    updateChannel: 'stable',
    torchStack: { kind: 'observed', torchVersion: pipPackages.torch ?? null, observedAt: '2026-11-30T10:00:00.000Z' },
  }
  const envelope = { type: 'comfyui-desktop-2-snapshot', version: 2, exportedAt: '2026-11-30T10:00:05.000Z', installationName: 'My ComfyUI', snapshots: [snapshot] }
  const out = join(FIXTURES, 'comfyui-desktop-2')
  mkdirSync(out, { recursive: true })
  writeFileSync(join(out, 'snapshot-export.json'), JSON.stringify(envelope, null, 2))
  writeFileSync(join(out, 'README.md'), [
    'A ComfyUI Desktop 2.0 snapshot export (envelope version 2) of the existing install of',
    'test/support/peer-world.ts `makeExistingInstall`. Desktop (Electron) does not run here: the file follows its',
    'published format, Comfy-Org/ComfyUI-Launcher src/main/lib/snapshots (buildExportEnvelope, validateExportEnvelope)',
    'and its pack scanner. Made by `node scripts/peer-fixtures.mjs desktop`.',
    '',
  ].join('\n'))
  log(`Desktop 2.0 snapshot in ${out}`)
}

/**
 * Runs a peer tool without blocking this process (the stand-in and the registry answer from here); its
 * output goes to the log, a failure stops the script with the tool's own words.
 */
async function tool (bin: string, args: string[], env: NodeJS.ProcessEnv, input = ''): Promise<string> {
  log(`$ ${basename(bin)} ${args.join(' ')}`)
  const child = spawn(bin, args, { env, stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (c: Buffer) => { out += c.toString() })
  child.stderr.on('data', (c: Buffer) => { out += c.toString() })
  child.stdin.end(input)
  const code = await new Promise<number>(resolve => child.on('close', c => resolve(c ?? 1)))
  process.stdout.write(out.split('\n').slice(code === 0 ? -6 : -40).join('\n') + '\n')
  if (code !== 0) throw new Error(`${basename(bin)} ${args.join(' ')} failed (exit ${code})`)
  return out
}

/**
 * A comfydock-cli 1.0.11 (the original ComfyDock) export bundle: an environment with a git pack, a
 * registry pack, a development node, a tracked workflow whose models have download sources, committed
 * and exported. Its hard-coded hosts are answered by the HTTPS stand-in.
 */
async function comfydockBundle (world: PeerWorld, scratch: string): Promise<void> {
  const cfd = peerVenv('cfd')
  const dir = join(scratch, 'cfd')
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const nodeMappings = peerNodeMappings(world)
  const standIn = await startStandIn({ dir, wheels: world.findLinks, registryUrl: world.registry.url, comfyuiTags: world.comfyui.tags, nodeMappings })
  try {
    const ws = join(dir, 'ws')
    const models = join(dir, 'models')
    world.writeModels(models)
    const env = { ...process.env, ...world.gitEnv, ...standIn.env, COMFYDOCK_HOME: ws, UV_FIND_LINKS: world.findLinks, PIP_FIND_LINKS: world.findLinks, NO_COLOR: '1' }
    await tool(cfd.bin, ['init', '-y', '--models-dir', models], env)
    await tool(cfd.bin, ['create', 'fixture', '--comfyui', 'v0.3.7', '--torch-backend', 'cpu'], env)
    const comfy = join(ws, 'environments', 'fixture', 'ComfyUI')
    await tool(cfd.bin, ['-e', 'fixture', 'node', 'add', `${FIXTURE_GITHUB}${GIT_PACK}@v1.0.0`], env)
    await tool(cfd.bin, ['-e', 'fixture', 'node', 'add', `${REGISTRY_PACK}@1.1.0`], env)
    mkdirSync(join(comfy, 'custom_nodes', 'my-dev-node'), { recursive: true })
    writeFileSync(join(comfy, 'custom_nodes', 'my-dev-node', '__init__.py'), 'NODE_CLASS_MAPPINGS = {"MyDevNode": object}\n')
    writeFileSync(join(comfy, 'custom_nodes', 'my-dev-node', 'requirements.txt'), 'fixture-extra-pip>=2.0\n')
    await tool(cfd.bin, ['-e', 'fixture', 'node', 'add', 'my-dev-node', '--dev'], env)
    mkdirSync(join(comfy, 'user', 'default', 'workflows'), { recursive: true })
    // Without the git pack's node: git packs are in no mappings file, and cfd refuses to export a workflow with an unresolved node.
    const workflow = { ...EXISTING_WORKFLOW, nodes: EXISTING_WORKFLOW.nodes.filter(n => n.type !== 'FixtureGitNode') }
    writeFileSync(join(comfy, 'user', 'default', 'workflows', 'portrait.json'), JSON.stringify(workflow, null, 2))
    await tool(cfd.bin, ['-e', 'fixture', 'workflow', 'resolve', 'portrait', '--auto'], env)
    // Its node classes are in no mappings file here, so cfd leaves them unresolved: committed with --allow-issues.
    await tool(cfd.bin, ['-e', 'fixture', 'commit', '-m', 'Portrait workflow with its packs and models', '--allow-issues'], env)
    // `model add-source` works on the active environment only.
    await tool(cfd.bin, ['use', 'fixture'], env)
    for (const m of MODEL_FILES.filter(f => !f.rel.startsWith('ipadapter/'))) await tool(cfd.bin, ['model', 'add-source', basename(m.rel), m.url], env)
    await tool(cfd.bin, ['-e', 'fixture', 'commit', '-m', 'Model sources', '--allow-issues'], env)
    const out = join(FIXTURES, 'comfydock-cli-1.0.11')
    mkdirSync(out, { recursive: true })
    await tool(cfd.bin, ['-e', 'fixture', 'export', join(out, 'fixture_export.tar.gz'), '--allow-issues'], env, 'y\ny\ny\n')
    writeFileSync(join(out, 'README.md'), [
      `Written by \`cfd export\` (comfydock-cli ${peerVersion('cfd')}) from an environment made with cfd in the world of`,
      'test/support/peer-world.ts. Made by `node scripts/peer-fixtures.mjs cfd`; its log lists every cfd command.',
      '',
    ].join('\n'))
    log(`comfydock-cli bundle in ${out}; hosts asked: ${[...new Set(standIn.requests)].join(', ')}`)
  } finally {
    await standIn.stop()
  }
}

/**
 * A ComfyGit 0.7 environment (its folder: a git repository with the manifest at its root) and its
 * `cg export` tarball: a git pack, a registry pack, a development node, a tracked workflow with models.
 */
async function comfygitEnvironment (world: PeerWorld, scratch: string): Promise<void> {
  const cg = peerVenv('cg')
  const dir = join(scratch, 'cg')
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const nodeMappings = peerNodeMappings(world)
  // ComfyGit checks that ComfyUI's origin is what it cloned, so GitHub is served over HTTPS here, not rewritten.
  const gitRepos = worldGitRepos(world)
  const standIn = await startStandIn({ dir, wheels: world.findLinks, registryUrl: world.registry.url, comfyuiTags: world.comfyui.tags, nodeMappings, gitRepos })
  try {
    const ws = join(dir, 'ws')
    const models = join(dir, 'models')
    world.writeModels(models)
    const env = { ...process.env, ...standIn.env, COMFYGIT_HOME: ws, UV_FIND_LINKS: world.findLinks, PIP_FIND_LINKS: world.findLinks, NO_COLOR: '1', CI: '1' }
    await tool(cg.bin, ['init', '-y', '--models-dir', models], env)
    await tool(cg.bin, ['create', 'fixture', '--comfyui', 'v0.3.7', '--torch-backend', 'cpu', '--no-manager', '--use', '-y'], env)
    const envDir = join(ws, 'environments', 'fixture')
    const comfy = join(envDir, 'ComfyUI')
    await tool(cg.bin, ['-e', 'fixture', 'node', 'add', `${FIXTURE_GITHUB}${GIT_PACK}@v1.0.0`], env)
    await tool(cg.bin, ['-e', 'fixture', 'node', 'add', `${REGISTRY_PACK}@1.1.0`], env)
    mkdirSync(join(comfy, 'custom_nodes', 'my-dev-node'), { recursive: true })
    writeFileSync(join(comfy, 'custom_nodes', 'my-dev-node', '__init__.py'), 'NODE_CLASS_MAPPINGS = {"MyDevNode": object}\n')
    writeFileSync(join(comfy, 'custom_nodes', 'my-dev-node', 'requirements.txt'), 'fixture-extra-pip>=2.0\n')
    await tool(cg.bin, ['-e', 'fixture', 'node', 'add', 'my-dev-node', '--dev'], env)
    mkdirSync(join(comfy, 'user', 'default', 'workflows'), { recursive: true })
    const workflow = { ...EXISTING_WORKFLOW, nodes: EXISTING_WORKFLOW.nodes.filter(n => n.type !== 'FixtureGitNode') }
    writeFileSync(join(comfy, 'user', 'default', 'workflows', 'portrait.json'), JSON.stringify(workflow, null, 2))
    await tool(cg.bin, ['-e', 'fixture', 'workflow', 'resolve', 'portrait', '--auto'], env).catch(err => log(String(err)))
    await tool(cg.bin, ['-e', 'fixture', 'commit', '-m', 'Portrait workflow with its packs and models', '--allow-issues'], env)
    for (const m of MODEL_FILES.filter(f => !f.rel.startsWith('ipadapter/'))) await tool(cg.bin, ['model', 'add-source', basename(m.rel), m.url], env).catch(err => log(String(err)))
    await tool(cg.bin, ['-e', 'fixture', 'commit', '-m', 'Model sources', '--allow-issues'], env).catch(err => log(String(err)))
    const out = join(FIXTURES, 'comfygit-0.7.1')
    mkdirSync(out, { recursive: true })
    await tool(cg.bin, ['-e', 'fixture', 'export', join(out, 'fixture_export.tar.gz'), '--allow-issues'], env, 'y\ny\ny\n')
    // The environment's repository (its .cec), as a git bundle: one file that `git clone` reads.
    execFileSync('git', ['-C', join(envDir, '.cec'), 'bundle', 'create', join(out, 'environment.bundle'), '--all'], { stdio: 'ignore' })
    writeFileSync(join(out, 'README.md'), [
      `Written by ComfyGit ${peerVersion('cg')} (\`cg\`) in the world of test/support/peer-world.ts: \`fixture_export.tar.gz\` by`,
      '`cg export`, and `environment.bundle`, the environment\'s git repository (its `.cec`), by `git bundle create`',
      '(`git clone environment.bundle DIR` gives the folder). Made by `node scripts/peer-fixtures.mjs cg`.',
      '',
    ].join('\n'))
    log(`ComfyGit environment and export in ${out}; hosts asked: ${[...new Set(standIn.requests)].join(', ')}`)
  } finally {
    await standIn.stop()
  }
}

const wanted = new Set(process.argv.slice(2))
const want = (t: string) => wanted.size === 0 || wanted.has(t)
const scratch = scratchDir()
const world = await makePeerWorld(join(scratch, 'world'))
try {
  if (want('mgr')) await managerSnapshots(world, scratch)
  if (want('desktop')) await desktopSnapshot(world, scratch)
  if (want('cfd')) await comfydockBundle(world, scratch)
  if (want('cg')) await comfygitEnvironment(world, scratch)
} finally {
  await world.close()
}
