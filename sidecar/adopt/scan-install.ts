/**
 * @module Reads a ComfyUI the user already has, without changing anything in it: ComfyUI's version (git
 * commit and tag, or `comfyui_version.py` of a copy without git), every custom node folder identified
 * (git remote + commit; a registry install by its `.tracking` / `pyproject.toml` `[tool.comfy]` markers
 * with its version; otherwise a development node), its Python (a venv next to it), its model folders
 * (`models/` and those named by `extra_model_paths.yaml`) and its saved workflows. Whatever cannot be
 * identified is listed with the reason.
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import { basename, dirname, isAbsolute, join, resolve } from 'node:path'
import { parse as parseToml } from 'smol-toml'
import YAML from 'yaml'
import { ComfydockError } from '../errors'
import { parsePorcelainZ, runGit } from '../git'
import { isDirectory, pathExists } from '../fs'
import { isLocalOnlySource } from '../bundle/foreign-snapshot'

export interface ScannedComfyui {
  /** Git commit when the folder is a clone. */
  commit: string | null
  /** A release tag at that commit, or from comfyui_version.py (`v0.3.7`). */
  tag: string | null
  /** `origin` of the clone. */
  remote: string | null
  /** Files the user changed in ComfyUI itself (not carried over). */
  localChanges: string[]
}

export type ScannedPack =
  | { kind: 'git', dir: string, url: string, commit: string, spec: string, localChanges: string[] }
  | { kind: 'registry', dir: string, id: string, version: string, spec: string }
  | { kind: 'development', dir: string, why: string }

export interface ScanNote { item: string, reason: string }

export interface InstallScan {
  root: string
  comfyui: ScannedComfyui
  packs: ScannedPack[]
  /** Custom node entries not adopted, with the reason (disabled, loose files, unreadable). */
  skipped: ScanNote[]
  /** The install's Python interpreter, when one was found. */
  python: string | null
  /** Model folders to index in place: the install's models/ and every base of extra_model_paths.yaml. */
  modelDirs: string[]
  /** extra_model_paths.yaml sections: folder key -> absolute paths. */
  extraModelPaths: Record<string, string[]>
  /** Saved workflows, relative to user/default/workflows. */
  workflows: string[]
  notes: ScanNote[]
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._ +-]*$/
const NOT_PACKS = new Set(['__pycache__', 'example_node.py.example', 'websocket_image_save.py'])

/** Read-only git: `--no-optional-locks` keeps `status` from refreshing (writing) the user's index. */
async function git (dir: string, args: string[]): Promise<string | null> {
  const res = await runGit(['--no-optional-locks', ...args], { dir, allowFailure: true })
  return res.code === 0 ? res.stdout.trim() : null
}

/** Changed tracked files, read with -z so any file name comes back as it is. */
async function gitChanges (dir: string): Promise<string[]> {
  const res = await runGit(['--no-optional-locks', 'status', '--porcelain=v1', '-z', '--untracked-files=no'], { dir, allowFailure: true })
  return res.code === 0 ? parsePorcelainZ(res.stdout).map(e => e.path) : []
}

async function readComfyuiVersion (root: string): Promise<string | null> {
  const text = await readFile(join(root, 'comfyui_version.py'), 'utf8').catch(() => null)
  const m = text && /__version__\s*=\s*["']([0-9][^"']*)["']/.exec(text)
  return m ? `v${m[1]}` : null
}

async function scanComfyui (root: string): Promise<ScannedComfyui> {
  if (await pathExists(join(root, '.git'))) {
    const commit = await git(root, ['rev-parse', 'HEAD'])
    if (commit) {
      const tag = await git(root, ['describe', '--tags', '--exact-match', 'HEAD'])
      return { commit, tag: tag || await readComfyuiVersion(root), remote: await git(root, ['config', '--get', 'remote.origin.url']), localChanges: await gitChanges(root) }
    }
  }
  return { commit: null, tag: await readComfyuiVersion(root), remote: null, localChanges: [] }
}

/** The registry identity of a pack folder from its pyproject.toml (`[project]` name/version). */
async function registryIdentity (dir: string): Promise<{ id: string, version: string, hasToolComfy: boolean } | null> {
  const text = await readFile(join(dir, 'pyproject.toml'), 'utf8').catch(() => null)
  if (!text) return null
  try {
    const doc = parseToml(text) as { project?: { name?: unknown, version?: unknown }, tool?: { comfy?: unknown } }
    const id = typeof doc.project?.name === 'string' ? doc.project.name.toLowerCase() : null
    const version = typeof doc.project?.version === 'string' ? doc.project.version : null
    if (!id || !version || !/^[a-z0-9][a-z0-9._-]{0,99}$/.test(id) || !/^[0-9][A-Za-z0-9.+-]*$/.test(version)) return null
    return { id, version, hasToolComfy: doc.tool?.comfy !== undefined }
  } catch {
    return null
  }
}

async function scanPack (dir: string): Promise<ScannedPack | ScanNote> {
  const name = basename(dir)
  if (await pathExists(join(dir, '.git'))) {
    const commit = await git(dir, ['rev-parse', 'HEAD'])
    // the URL as configured (`remote get-url` would apply the user's insteadOf rewrites)
    const url = await git(dir, ['config', '--get', 'remote.origin.url'])
    if (!commit) return { item: name, reason: 'a git folder whose HEAD cannot be read' }
    if (!url) return { kind: 'development', dir: name, why: 'a git repository with no remote' }
    if (isLocalOnlySource(url)) return { kind: 'development', dir: name, why: `its remote ${url} is on this machine` }
    // Commits that were never pushed would not be found by anyone cloning the remote.
    const pushed = await git(dir, ['branch', '-r', '--contains', commit])
    if (pushed === '') return { kind: 'development', dir: name, why: `commit ${commit.slice(0, 12)} is not on any branch of ${url}` }
    return { kind: 'git', dir: name, url, commit, spec: `${url}@${commit}`, localChanges: await gitChanges(dir) }
  }
  const tracked = await pathExists(join(dir, '.tracking'))
  const reg = await registryIdentity(dir)
  if (reg && (tracked || reg.hasToolComfy)) return { kind: 'registry', dir: name, id: reg.id, version: reg.version, spec: `${reg.id}@${reg.version}` }
  return { kind: 'development', dir: name, why: 'no git repository and no registry markers' }
}

/** A venv the install runs with: ComfyUI/venv, ComfyUI/.venv, one folder up, or the portable build's python_embeded. */
async function findPython (root: string): Promise<string | null> {
  const candidates = [
    join(root, 'venv', 'bin', 'python'), join(root, '.venv', 'bin', 'python'),
    join(dirname(root), 'venv', 'bin', 'python'), join(dirname(root), '.venv', 'bin', 'python'),
    join(root, 'venv', 'Scripts', 'python.exe'), join(dirname(root), 'python_embeded', 'python.exe'),
  ]
  for (const c of candidates) if (await pathExists(c)) return c
  return null
}

async function readExtraModelPaths (root: string, notes: ScanNote[]): Promise<Record<string, string[]>> {
  const file = join(root, 'extra_model_paths.yaml')
  const text = await readFile(file, 'utf8').catch(() => null)
  if (!text) return {}
  let doc: unknown
  try {
    doc = YAML.parse(text)
  } catch (err) {
    notes.push({ item: 'extra_model_paths.yaml', reason: `not valid YAML (${(err as Error).message.split('\n')[0]}); its folders are not indexed` })
    return {}
  }
  const out: Record<string, string[]> = {}
  for (const conf of Object.values((doc ?? {}) as Record<string, unknown>)) {
    if (!conf || typeof conf !== 'object') continue
    const c = { ...(conf as Record<string, unknown>) }
    const base = typeof c.base_path === 'string' ? c.base_path.replace(/^~(?=\/|$)/, process.env.HOME ?? '~') : null
    delete c.base_path
    delete c.is_default
    for (const [folder, value] of Object.entries(c)) {
      if (typeof value !== 'string') continue
      for (const p of value.split('\n').map(s => s.trim()).filter(Boolean)) {
        const abs = isAbsolute(p) ? p : resolve(base ? (isAbsolute(base) ? base : join(root, base)) : root, p)
        ;(out[folder] ??= []).push(abs)
      }
    }
  }
  return out
}

/**
 * The folders whose files get indexed: models/, and for each extra_model_paths.yaml folder the
 * directory above it when the folder is named like its key (`<base>/loras` -> `<base>`), so files keep
 * their category as the first part of their path; otherwise the folder itself.
 */
function modelDirsOf (root: string, extra: Record<string, string[]>): string[] {
  const dirs = [join(root, 'models')]
  for (const [key, paths] of Object.entries(extra)) {
    for (const p of paths) dirs.push(basename(p) === key || basename(p) === key.split('_')[0] ? dirname(p) : p)
  }
  return [...new Set(dirs.map(d => resolve(d)))]
}

async function listWorkflowFiles (dir: string): Promise<string[]> {
  if (!(await isDirectory(dir))) return []
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries.filter(e => e.isFile() && e.name.endsWith('.json'))
    .map(e => join(e.parentPath, e.name).slice(dir.length + 1).split('\\').join('/')).sort()
}

export async function scanInstall (folder: string): Promise<InstallScan> {
  const root = resolve(folder)
  if (!(await isDirectory(root)) || !(await pathExists(join(root, 'main.py'))) || !(await pathExists(join(root, 'folder_paths.py')))) {
    throw new ComfydockError('NOT_A_COMFYUI', `${root} is not a ComfyUI folder (no main.py and folder_paths.py)`, {
      hint: 'Pass the folder that holds ComfyUI\'s main.py, e.g. `comfydock adopt ~/ComfyUI`.',
    })
  }
  const notes: ScanNote[] = []
  const comfyui = await scanComfyui(root)
  if (!comfyui.commit && !comfyui.tag) notes.push({ item: 'ComfyUI', reason: 'neither a git clone nor a comfyui_version.py: its version is unknown; the newest release is used' })
  if (comfyui.localChanges.length) notes.push({ item: 'ComfyUI', reason: `local changes are not carried over: ${comfyui.localChanges.slice(0, 5).join(', ')}${comfyui.localChanges.length > 5 ? ', …' : ''}` })

  const packs: ScannedPack[] = []
  const skipped: ScanNote[] = []
  const nodesDir = join(root, 'custom_nodes')
  for (const e of (await readdir(nodesDir, { withFileTypes: true }).catch(() => [])).sort((a, b) => a.name.localeCompare(b.name))) {
    if (NOT_PACKS.has(e.name)) continue
    if (e.name === '.disabled') {
      for (const d of await readdir(join(nodesDir, e.name)).catch(() => [])) skipped.push({ item: `.disabled/${d}`, reason: 'disabled in this ComfyUI' })
      continue
    }
    if (e.name.startsWith('.')) continue
    if (e.name.endsWith('.disabled')) { skipped.push({ item: e.name, reason: 'disabled in this ComfyUI' }); continue }
    if (!SAFE_NAME.test(e.name)) { skipped.push({ item: e.name, reason: 'its name cannot be used as a folder name here' }); continue }
    const full = join(nodesDir, e.name)
    const st = await stat(full).catch(() => null)
    if (!st) continue
    if (!st.isDirectory()) {
      if (e.name.endsWith('.py')) skipped.push({ item: e.name, reason: 'a loose .py file: put it in a folder to adopt it as a development node' })
      continue
    }
    const found = await scanPack(full)
    if ('item' in found) skipped.push(found)
    else packs.push(found)
  }

  const extraModelPaths = await readExtraModelPaths(root, notes)
  return {
    root,
    comfyui,
    packs,
    skipped,
    python: await findPython(root),
    modelDirs: modelDirsOf(root, extraModelPaths),
    extraModelPaths,
    workflows: await listWorkflowFiles(join(root, 'user', 'default', 'workflows')),
    notes,
  }
}
