/**
 * @module Opens a bundle for import: safe extraction into a temp folder, then validation of what is
 * inside (required files, manifest.json, pyproject.toml, format version) before anything touches the
 * workspace. Reads both our bundles and the original tool's 1.0.x flat bundles (no manifest.json).
 */
import { lstat, readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { isDirectory, pathExists, withTempDir } from '../fs'
import type { Pyproject } from '../manifest'
import {
  BUNDLE_FILES, bundleCorrupt, legacyBundleManifest, parseBundleManifest, parseBundlePyproject, type BundleManifest,
} from './format'
import { extractSafely, type ExtractOptions } from './safe-extract'
import { convertComfygitManifest, isComfygitManifest } from './comfygit'

export interface OpenedBundle {
  /** The temp folder holding the extracted files (removed when the callback returns). */
  dir: string
  /** comfydock's own, the original tool's 1.0.x, or a ComfyGit environment / `cg export`. */
  kind: 'comfydock' | 'legacy' | 'comfygit'
  manifest: BundleManifest
  pyproject: Pyproject
  pyprojectText: string
  /** Workflow files relative to workflows/, sorted. */
  workflows: string[]
  /** Folder names under dev_nodes/. */
  devNodes: string[]
  /** What reading a foreign manifest changed or left out. */
  notes: string[]
}

async function listJson (dir: string): Promise<string[]> {
  if (!(await isDirectory(dir))) return []
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries.filter(e => e.isFile() && e.name.endsWith('.json'))
    .map(e => relative(dir, join(e.parentPath, e.name)).split('\\').join('/')).sort()
}

async function requireFile (dir: string, name: string): Promise<string> {
  const path = join(dir, name)
  const s = await lstat(path).catch(() => null)
  if (!s) throw bundleCorrupt(`${name} is missing`)
  if (!s.isFile()) throw bundleCorrupt(`${name} is not a regular file`)
  return readFile(path, 'utf8')
}

/** Validates an extracted bundle folder. */
export async function readExtractedBundle (dir: string): Promise<OpenedBundle> {
  const pyprojectText = await requireFile(dir, BUNDLE_FILES.pyproject)
  let pyproject = parseBundlePyproject(pyprojectText)
  const notes: string[] = []
  const comfygit = isComfygitManifest(pyproject)
  if (comfygit) {
    const converted = convertComfygitManifest(pyproject)
    pyproject = converted.doc
    notes.push(...converted.notes)
  }
  const workflows = await listJson(join(dir, BUNDLE_FILES.workflows))
  const devDir = join(dir, BUNDLE_FILES.devNodes)
  const devNodes = (await isDirectory(devDir))
    ? (await readdir(devDir, { withFileTypes: true })).filter(e => e.isDirectory()).map(e => e.name).sort()
    : []
  let manifest: BundleManifest
  let kind: OpenedBundle['kind']
  if (await pathExists(join(dir, BUNDLE_FILES.manifest))) {
    manifest = parseBundleManifest(await requireFile(dir, BUNDLE_FILES.manifest))
    kind = 'comfydock'
    const missing = manifest.workflows.filter(w => !workflows.includes(w))
    if (missing.length) throw bundleCorrupt(`workflows listed in manifest.json are missing: ${missing.join(', ')}`)
    const missingDev = (manifest.dev_nodes ?? []).filter(d => !devNodes.includes(d))
    if (missingDev.length) throw bundleCorrupt(`development nodes listed in manifest.json are missing: ${missingDev.join(', ')}`)
  } else {
    if (pyproject.tool.comfydock === undefined || Object.keys(pyproject.tool.comfydock).length === 0) {
      throw bundleCorrupt('manifest.json is missing and pyproject.toml has no [tool.comfydock] table')
    }
    manifest = legacyBundleManifest(pyproject, workflows)
    kind = comfygit ? 'comfygit' : 'legacy'
    if (comfygit) manifest.comfydock_version = 'ComfyGit'
  }
  return { dir, kind, manifest, pyproject, pyprojectText, workflows, devNodes, notes }
}

/**
 * Links may only live inside a development node and point within that same node: once copied into
 * custom_nodes/ or .cec/, a link that was "inside the bundle" could reach other folders.
 */
function checkLinks (links: Array<{ path: string, target: string }>): void {
  for (const link of links) {
    const m = /^dev_nodes\/([^/]+)\//.exec(link.path)
    if (!m || !(link.target === `dev_nodes/${m[1]}` || link.target.startsWith(`dev_nodes/${m[1]}/`))) {
      throw bundleCorrupt(`link "${link.path}" points outside its development node (to "${link.target}")`)
    }
  }
}

/**
 * Extracts and validates `file`, runs `fn` with the result and removes the temp folder whatever
 * happens. `tempParent` keeps the extraction on the workspace's filesystem for cheap moves.
 */
export async function withOpenedBundle<T> (file: string, fn: (bundle: OpenedBundle) => Promise<T>, opts: ExtractOptions & { tempParent?: string, tempPrefix?: string } = {}): Promise<T> {
  const run = async (dir: string): Promise<T> => {
    checkLinks((await extractSafely(file, dir, opts)).links)
    return fn(await readExtractedBundle(dir))
  }
  return opts.tempParent ? withTempDir(opts.tempPrefix ?? 'bundle', run, opts.tempParent) : withTempDir('comfydock-bundle', run)
}
