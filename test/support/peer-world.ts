/**
 * The world the peer tools' fixtures were made in (scripts/peer-fixtures), rebuilt byte for byte by the
 * tests that read those fixtures: the sample ComfyUI repository and its wheels, git packs published under
 * `https://github.com/comfydock-fixtures/<name>`, a loopback registry with one pack in two versions, and
 * model files. Commit ids, zips and model bytes are deterministic, so the commits, versions and hashes the
 * real tools wrote into their files resolve here too.
 *
 * GitHub is not reachable: `gitEnv` rewrites the fixture URLs (and ComfyUI's own) to the local repositories
 * through git's documented `url.<base>.insteadOf`, passed as GIT_CONFIG_* variables.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { makeComfyuiRepo, type ComfyuiRepo } from './comfyui-repo'
import { makeGitRepo, type GitRepo } from './git-repos'
import { startRegistryServer, type FakePack, type RegistryServer } from './registry-server'
import { Workspace } from '../../sidecar/workspace'
import { buildWheel } from './wheels'

export const FIXTURE_GITHUB = 'https://github.com/comfydock-fixtures/'
export const COMFYUI_GITHUB = 'https://github.com/comfyanonymous/ComfyUI'

export const REGISTRY_PACK = 'comfyui-fixture-registry'
export const GIT_PACK = 'ComfyUI-Fixture-Git'
export const DISABLED_PACK = 'ComfyUI-Fixture-Disabled'
export const MODELS_PACK = 'ComfyUI-Fixture-IPAdapter'

/** The registry pack's pyproject.toml, as packs publish it (`[project]` + `[tool.comfy]`). */
export function registryPackPyproject (version: string): string {
  return `[project]
name = "${REGISTRY_PACK}"
description = "Fixture pack served by the loopback registry"
version = "${version}"
license = { file = "LICENSE" }
dependencies = ["fixture-dep-registry==1.0"]

[project.urls]
Repository = "${FIXTURE_GITHUB}${REGISTRY_PACK}"

[tool.comfy]
PublisherId = "comfydock-fixtures"
DisplayName = "Fixture registry pack"
Icon = ""
`
}

const registryFiles = (version: string): Record<string, string> => ({
  '__init__.py': `NODE_CLASS_MAPPINGS = {"FixtureRegistryNode": object}\n# ${version}\n`,
  'pyproject.toml': registryPackPyproject(version),
  'requirements.txt': 'fixture-dep-registry==1.0\n',
})

export const REGISTRY_PACKS: FakePack[] = [{
  id: REGISTRY_PACK,
  name: 'Fixture registry pack',
  repository: `${FIXTURE_GITHUB}${REGISTRY_PACK}`,
  versions: [
    { version: '1.0.0', files: registryFiles('1.0.0'), dependencies: ['fixture-dep-registry==1.0'], classes: ['FixtureRegistryNode'] },
    { version: '1.1.0', files: registryFiles('1.1.0'), dependencies: ['fixture-dep-registry==1.0'], classes: ['FixtureRegistryNode'] },
  ],
}]

/** Model files of the world: deterministic bytes, so their short hashes are the same everywhere. */
export const MODEL_FILES = [
  { rel: 'checkpoints/fixture_base.safetensors', size: 300_000, seed: 3, url: 'https://huggingface.co/comfydock-fixtures/models/resolve/main/fixture_base.safetensors' },
  { rel: 'loras/fixture_detail.safetensors', size: 120_000, seed: 5, url: 'https://huggingface.co/comfydock-fixtures/models/resolve/main/fixture_detail.safetensors' },
  { rel: 'ipadapter/fixture_ipadapter.bin', size: 80_000, seed: 11, url: 'https://huggingface.co/comfydock-fixtures/models/resolve/main/fixture_ipadapter.bin' },
] as const

export function modelBytes (size: number, seed: number): Buffer {
  const out = Buffer.alloc(size)
  for (let i = 0; i < size; i++) out[i] = (i * seed + 7) & 0xff
  return out
}

export interface PeerWorld {
  root: string
  comfyui: ComfyuiRepo
  registry: RegistryServer
  git: Record<string, GitRepo>
  /** Wheels for every requirement here (ComfyUI's, the packs', a stub torch). */
  findLinks: string
  /** GIT_CONFIG_* variables that send the fixture URLs and ComfyUI's GitHub URL to the local repositories. */
  gitEnv: Record<string, string>
  /** Writes the world's model files under `dir` (a models folder). */
  writeModels (dir: string): void
  /** A new workspace under the world's root that takes ComfyUI and packs from the world. */
  newWorkspace (): Promise<Workspace>
  close (): Promise<void>
}

export async function makePeerWorld (root: string): Promise<PeerWorld> {
  mkdirSync(root, { recursive: true })
  const comfyui = await makeComfyuiRepo(root)
  const findLinks = comfyui.findLinks
  await buildWheel(findLinks, { name: 'fixture-dep-registry', version: '1.0' })
  await buildWheel(findLinks, { name: 'fixture-dep-git', version: '1.0' })
  await buildWheel(findLinks, { name: 'fixture-extra-pip', version: '2.0' })
  // A stand-in for torch, so installs that pin it (and snapshots that list it) work offline.
  await buildWheel(findLinks, { name: 'torch', version: '2.5.1' })
  await buildWheel(findLinks, { name: 'torchvision', version: '0.20.1' })
  await buildWheel(findLinks, { name: 'torchaudio', version: '2.5.1' })
  // ComfyGit adds requests to every environment's dependencies.
  await buildWheel(findLinks, { name: 'requests', version: '2.32.3' })

  const gitRoot = join(root, 'git')
  const git: Record<string, GitRepo> = {
    [GIT_PACK]: makeGitRepo(join(gitRoot, GIT_PACK), [
      { files: { '__init__.py': 'NODE_CLASS_MAPPINGS = {"FixtureGitNode": object}\n', 'requirements.txt': 'fixture-dep-git==1.0\n' }, tag: 'v1.0.0' },
      { files: { '__init__.py': 'NODE_CLASS_MAPPINGS = {"FixtureGitNode": object, "FixtureGitNode2": object}\n' }, tag: 'v1.1.0' },
    ]),
    [DISABLED_PACK]: makeGitRepo(join(gitRoot, DISABLED_PACK), [
      { files: { '__init__.py': 'NODE_CLASS_MAPPINGS = {"FixtureDisabledNode": object}\n' } },
    ]),
    // Registers a model folder of its own as ComfyUI_IPAdapter_plus does: keeping paths already known
    // (from extra_model_paths.yaml), adding models/ipadapter when there are none.
    [MODELS_PACK]: makeGitRepo(join(gitRoot, MODELS_PACK), [
      {
        files: {
          '__init__.py': [
            'import os',
            'import folder_paths',
            'if "ipadapter" in folder_paths.folder_names_and_paths:',
            '    current_paths, _ = folder_paths.folder_names_and_paths["ipadapter"]',
            'else:',
            '    current_paths = [os.path.join(folder_paths.models_dir, "ipadapter")]',
            'folder_paths.folder_names_and_paths["ipadapter"] = (current_paths, {".bin", ".safetensors"})',
            'NODE_CLASS_MAPPINGS = {"FixtureIPAdapterLoader": object}',
            '',
          ].join('\n'),
        },
      },
    ]),
  }
  // Served as https://github.com/comfydock-fixtures/<name>(.git) through insteadOf.
  for (const name of Object.keys(git)) execFileSync('git', ['-C', gitRoot, 'clone', '-q', '--bare', join(gitRoot, name), `${name}.git`])
  const rewrites: Array<[string, string]> = [
    [`file://${gitRoot}/`, FIXTURE_GITHUB],
    [`file://${comfyui.url}`, `${COMFYUI_GITHUB}.git`],
    [`file://${comfyui.url}`, COMFYUI_GITHUB],
    // ComfyGit clones ComfyUI from its new home
    [`file://${comfyui.url}`, 'https://github.com/Comfy-Org/ComfyUI.git'],
    [`file://${comfyui.url}`, 'https://github.com/Comfy-Org/ComfyUI'],
  ]
  const gitEnv: Record<string, string> = { GIT_CONFIG_COUNT: String(rewrites.length) }
  rewrites.forEach(([to, from], i) => {
    gitEnv[`GIT_CONFIG_KEY_${i}`] = `url.${to}.insteadOf`
    gitEnv[`GIT_CONFIG_VALUE_${i}`] = from
  })

  const registry = await startRegistryServer(REGISTRY_PACKS)
  let workspaces = 0
  return {
    root,
    comfyui,
    registry,
    git,
    findLinks,
    gitEnv,
    writeModels (dir) {
      for (const m of MODEL_FILES) {
        mkdirSync(join(dir, m.rel, '..'), { recursive: true })
        writeFileSync(join(dir, m.rel), modelBytes(m.size, m.seed))
      }
    },
    async newWorkspace () {
      const { workspace } = await Workspace.init(join(root, `ws-${workspaces++}`))
      await workspace.setConfig('comfyui_source', comfyui.url)
      await workspace.setConfig('registry_url', registry.url)
      return workspace
    },
    close: () => registry.stop(),
  }
}

export interface ExistingInstall {
  /** The ComfyUI folder (a git clone of the sample ComfyUI at v0.3.7). */
  comfyui: string
  /** Its venv (`<comfyui>/venv`, where ComfyUI's portable/manual installs keep one). */
  venv: string
  /** A models folder outside ComfyUI, named in its extra_model_paths.yaml. */
  extraModels: string
  workflows: string[]
}

export const EXISTING_WORKFLOW = {
  last_node_id: 4,
  last_link_id: 0,
  nodes: [
    { id: 1, type: 'CheckpointLoaderSimple', pos: [0, 0], size: [300, 100], flags: {}, order: 0, mode: 0, properties: { 'Node name for S&R': 'CheckpointLoaderSimple' }, widgets_values: ['fixture_base.safetensors'] },
    { id: 2, type: 'LoraLoader', pos: [0, 200], size: [300, 100], flags: {}, order: 1, mode: 0, properties: {}, widgets_values: ['fixture_detail.safetensors', 1, 1] },
    { id: 3, type: 'FixtureRegistryNode', pos: [400, 0], size: [300, 100], flags: {}, order: 2, mode: 0, properties: { cnr_id: REGISTRY_PACK, ver: '1.1.0' }, widgets_values: [] },
    { id: 4, type: 'FixtureGitNode', pos: [400, 200], size: [300, 100], flags: {}, order: 3, mode: 0, properties: { aux_id: `comfydock-fixtures/${GIT_PACK}` }, widgets_values: [] },
  ],
  links: [],
  groups: [],
  config: {},
  extra: {},
  version: 0.4,
}

/** The wheels a user's ComfyUI venv holds here: ComfyUI's and the packs' requirements, torch and one extra. */
export const EXISTING_PIPS = ['comfy-dep-a==1.1', 'comfy-dep-b==2.0', 'fixture-dep-registry==1.0', 'fixture-dep-git==1.0', 'fixture-extra-pip==2.0', 'torch==2.5.1']

/**
 * A ComfyUI the user set up by hand, as ComfyUI-Manager leaves it: ComfyUI cloned from GitHub, a git pack
 * cloned (and one disabled under `.disabled/`), a registry pack extracted from its zip with `.tracking`,
 * a development node with no git, a loose `.py` node, a pack that registers its own model folder, models
 * in `models/` and in a folder named by `extra_model_paths.yaml`, saved workflows and a venv.
 */
export async function makeExistingInstall (world: PeerWorld, dir: string, opts: { venv?: boolean } = {}): Promise<ExistingInstall> {
  const env = { ...process.env, ...world.gitEnv }
  const git = (args: string[], cwd?: string) => execFileSync('git', args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] })
  const comfyui = join(dir, 'ComfyUI')
  git(['clone', '-q', `${COMFYUI_GITHUB}.git`, comfyui])
  git(['-c', 'advice.detachedHead=false', 'checkout', '-q', 'v0.3.7'], comfyui)
  const nodes = join(comfyui, 'custom_nodes')
  git(['clone', '-q', `${FIXTURE_GITHUB}${GIT_PACK}`, join(nodes, GIT_PACK)])
  git(['-c', 'advice.detachedHead=false', 'checkout', '-q', world.git[GIT_PACK].commits[0]], join(nodes, GIT_PACK))
  git(['clone', '-q', `${FIXTURE_GITHUB}${MODELS_PACK}.git`, join(nodes, MODELS_PACK)])
  mkdirSync(join(nodes, '.disabled'), { recursive: true })
  git(['clone', '-q', `${FIXTURE_GITHUB}${DISABLED_PACK}`, join(nodes, '.disabled', DISABLED_PACK)])
  // A registry install: the zip's files plus `.tracking` listing them (ComfyUI-Manager's marker).
  const reg = join(nodes, REGISTRY_PACK)
  const files = registryFiles('1.1.0')
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(reg, rel, '..'), { recursive: true })
    writeFileSync(join(reg, rel), text)
  }
  writeFileSync(join(reg, '.tracking'), Object.keys(files).join('\n') + '\n')
  mkdirSync(join(nodes, 'my-dev-node'), { recursive: true })
  writeFileSync(join(nodes, 'my-dev-node', '__init__.py'), 'NODE_CLASS_MAPPINGS = {"MyDevNode": object}\n')
  writeFileSync(join(nodes, 'my-dev-node', 'requirements.txt'), 'fixture-extra-pip>=2.0\n')
  writeFileSync(join(nodes, 'loose_node.py'), 'NODE_CLASS_MAPPINGS = {"LooseNode": object}\n')

  world.writeModels(join(comfyui, 'models'))
  const extraModels = join(dir, 'more-models')
  mkdirSync(join(extraModels, 'loras'), { recursive: true })
  writeFileSync(join(extraModels, 'loras', 'extra_style.safetensors'), modelBytes(50_000, 13))
  writeFileSync(join(comfyui, 'extra_model_paths.yaml'), [
    'more:',
    `    base_path: ${extraModels}`,
    '    loras: loras',
    '',
  ].join('\n'))

  const wfDir = join(comfyui, 'user', 'default', 'workflows')
  mkdirSync(wfDir, { recursive: true })
  writeFileSync(join(wfDir, 'portrait.json'), JSON.stringify(EXISTING_WORKFLOW, null, 2))

  const venv = join(comfyui, 'venv')
  if (opts.venv !== false) {
    execFileSync('python3', ['-m', 'venv', venv])
    execFileSync(join(venv, 'bin', 'python'), ['-m', 'pip', 'install', '-q', '--no-index', '--find-links', world.findLinks, '--disable-pip-version-check', ...EXISTING_PIPS])
  }
  return { comfyui, venv, extraModels, workflows: ['portrait.json'] }
}

/** The node mappings ComfyDock and ComfyGit download: the registry pack's node class, as ComfyDock-Registry-Data lists it. */
export function peerNodeMappings (world: PeerWorld): unknown {
  return {
    version: 'stand-in',
    stats: {},
    mappings: { 'FixtureRegistryNode::_': [{ package_id: REGISTRY_PACK, versions: ['1.0.0', '1.1.0'], rank: 1 }] },
    packages: {
      [REGISTRY_PACK]: {
        id: REGISTRY_PACK, display_name: 'Fixture registry pack', description: 'fixture', repository: `${FIXTURE_GITHUB}${REGISTRY_PACK}`,
        versions: Object.fromEntries(['1.0.0', '1.1.0'].map(v => [v, { version: v, dependencies: ['fixture-dep-registry==1.0'], deprecated: false, status: 'NodeVersionStatusActive', download_url: `${world.registry.url}/files/${REGISTRY_PACK}/${v}/node.zip` }])),
      },
    },
  }
}

/** GitHub repositories of the world, for the HTTPS stand-in to serve (ComfyGit checks ComfyUI's origin, so no insteadOf). */
export function worldGitRepos (world: PeerWorld): Record<string, string> {
  const repos: Record<string, string> = { 'Comfy-Org/ComfyUI': world.comfyui.url, 'comfyanonymous/ComfyUI': world.comfyui.url }
  for (const [name, repo] of Object.entries(world.git)) repos[`comfydock-fixtures/${name}`] = repo.path
  return repos
}

/**
 * Points this process (and the CLIs it starts) at the world: pip and uv install from its wheels only, git
 * fetches the GitHub URLs from its local repositories. Returns a function that undoes it.
 */
export function useWorldEnv (world: PeerWorld): () => void {
  const vars = { ...world.comfyui.indexEnv, ...world.gitEnv }
  const before = Object.fromEntries(Object.keys(vars).map(k => [k, process.env[k]]))
  Object.assign(process.env, vars)
  return () => {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
}
