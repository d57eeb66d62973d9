/**
 * Makes test/fixtures/peers/ with the real peer tools, in the world of test/support/peer-world.ts (the
 * sample ComfyUI, git packs under https://github.com/comfydock-fixtures/, a loopback registry, model
 * files), so the tests can rebuild the same world and import what the tools wrote. Tools and versions:
 * scripts/peer-fixtures/tools.ts. Usage: `node scripts/peer-fixtures.mjs [mgr] [cfd] [cg] [desktop]`.
 * CI does not run this; it reads the committed files.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { makeExistingInstall, makePeerWorld, type PeerWorld } from '../../test/support/peer-world'
import { peerVenv, peerVersion, scratchDir } from './tools'

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
    const run = 'import os, sys; sys.path.append(os.environ["CM_CLI_SITE"]); sys.argv[0] = "cm-cli"; from cm_cli import main; sys.exit(main())'
    execFileSync(join(install.venv, 'bin', 'python'), ['-c', run, 'save-snapshot', '--output', join(out, name)], {
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

const wanted = new Set(process.argv.slice(2))
const want = (t: string) => wanted.size === 0 || wanted.has(t)
const scratch = scratchDir()
const world = await makePeerWorld(join(scratch, 'world'))
try {
  if (want('mgr')) await managerSnapshots(world, scratch)
  if (want('desktop')) await desktopSnapshot(world, scratch)
} finally {
  await world.close()
}
