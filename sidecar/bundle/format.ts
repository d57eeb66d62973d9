/**
 * @module The bundle format: what `manifest.json` holds and how a bundle's files are validated.
 * A bundle is a gzip'd tar with, at its root: manifest.json, pyproject.toml, requirements.lock.txt and
 * uv.lock (the environment's lock; absent from older bundles),
 * .python-version, workflows/*.json and dev_nodes/<name>/**. Bundles of the original Python tool
 * (1.0.x) have the same layout without manifest.json; they are read as "legacy" bundles.
 */
import { z } from 'zod'
import { collectModelNeeds } from '../env/repair'
import { ComfydockError } from '../errors'
import { parseManifest, safeNameSchema, safeRelativePathSchema, type Pyproject } from '../manifest'

export const BUNDLE_FORMAT = 'comfydock-bundle'
export const BUNDLE_FORMAT_VERSION = 1

export const BUNDLE_FILES = {
  manifest: 'manifest.json',
  pyproject: 'pyproject.toml',
  uvLock: 'uv.lock',
  /** The pip-readable lock (every environment has one since locks exist; older bundles have none). */
  requirementsLock: 'requirements.lock.txt',
  pythonVersion: '.python-version',
  workflows: 'workflows',
  devNodes: 'dev_nodes',
} as const

const totalsSchema = z.object({
  workflows: z.number().int().nonnegative(),
  nodes: z.number().int().nonnegative(),
  registry_nodes: z.number().int().nonnegative(),
  git_nodes: z.number().int().nonnegative(),
  dev_nodes: z.number().int().nonnegative(),
  models: z.number().int().nonnegative(),
  /** Sum of the known sizes of referenced models (what an importer may have to download). */
  model_bytes: z.number().nonnegative(),
})

export const bundleManifestSchema = z.object({
  format: z.literal(BUNDLE_FORMAT),
  format_version: z.number().int().positive(),
  /** The time of the exported commit, so the same commit always gives the same bytes. */
  timestamp: z.string(),
  comfydock_version: z.string(),
  /** Only a suggestion: the import checks it as an environment name before using it. */
  environment_name: z.string().min(1),
  /** Files under workflows/, relative to it. */
  workflows: z.array(safeRelativePathSchema('workflow file')),
  /** Folder names under dev_nodes/ (each becomes a folder in custom_nodes). */
  dev_nodes: z.array(safeNameSchema('development node folder')).default([]),
  python_version: z.string().nullable(),
  comfyui_version: z.string().nullable(),
  platform: z.string(),
  total_models: z.number().int().nonnegative(),
  total_nodes: z.number().int().nonnegative(),
  totals: totalsSchema,
}).passthrough()

export type BundleManifest = z.infer<typeof bundleManifestSchema>
export type BundleTotals = z.infer<typeof totalsSchema>

/** The one error a bad bundle produces, whatever is wrong with it. */
export function bundleCorrupt (detail: string, cause?: unknown): ComfydockError {
  return new ComfydockError('BUNDLE_CORRUPT', `bundle appears corrupted: ${detail}`, {
    hint: 'Ask for a fresh export (`comfydock export`) and check the file was copied completely.',
    cause,
  })
}

/** Parses manifest.json text; refuses a newer format version with an upgrade hint. */
export function parseBundleManifest (text: string): BundleManifest {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    throw bundleCorrupt(`manifest.json is not valid JSON (${(err as Error).message})`, err)
  }
  const version = (raw as { format_version?: unknown } | null)?.format_version
  if (typeof version === 'number' && version > BUNDLE_FORMAT_VERSION) {
    throw new ComfydockError('BUNDLE_UNSUPPORTED_VERSION', `bundle format version ${version} is newer than this comfydock reads (up to ${BUNDLE_FORMAT_VERSION})`, {
      hint: 'Upgrade comfydock (`npm install -g comfydock@latest`) and import again.',
    })
  }
  const parsed = bundleManifestSchema.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw bundleCorrupt(`manifest.json: ${issue.path.join('.') || '(root)'}: ${issue.message}`)
  }
  return parsed.data
}

/**
 * Parses the bundled pyproject.toml with the manifest schema; a TOML error or a refused value becomes a
 * corrupt-bundle error naming the field. A newer schema keeps its own error: it says which comfydock to get.
 */
export function parseBundlePyproject (text: string): Pyproject {
  try {
    return parseManifest(text, 'pyproject.toml')
  } catch (err) {
    if (err instanceof ComfydockError && err.code === 'MANIFEST_UNSUPPORTED_VERSION') throw err
    throw bundleCorrupt((err as Error).message, err)
  }
}

/** Counts what a manifest references: nodes by source, workflows, unique models and their known size. */
/**
 * The bundle's totals. Models are counted as import counts them (one per model the environment needs:
 * by hash, or by path for a download intent with no file yet), so the export summary and the import
 * of the same bundle agree.
 */
export function countManifest (doc: Pyproject): BundleTotals {
  const c = doc.tool.comfydock
  const nodes = Object.values(c.nodes ?? {})
  const models = collectModelNeeds(doc)
  return {
    workflows: Object.keys(c.workflows ?? {}).length,
    nodes: nodes.length,
    registry_nodes: nodes.filter(n => n.source === 'registry').length,
    git_nodes: nodes.filter(n => n.source === 'git').length,
    dev_nodes: nodes.filter(n => n.source === 'development').length,
    models: models.length,
    model_bytes: models.reduce((n, m) => n + (m.size ?? 0), 0),
  }
}

/**
 * A manifest for a bundle that has none (the original tool's 1.0.x flat layout): built from its
 * pyproject so the import flow treats both kinds alike.
 */
export function legacyBundleManifest (doc: Pyproject, workflows: string[]): BundleManifest {
  const c = doc.tool.comfydock
  const totals = countManifest(doc)
  const name = String(doc.project.name ?? '').replace(/^(comfydock|comfygit)-env-/, '') || 'imported'
  return {
    format: BUNDLE_FORMAT,
    format_version: 0,
    timestamp: '',
    comfydock_version: 'original (1.0.x)',
    environment_name: name,
    workflows,
    dev_nodes: Object.values(c.nodes ?? {}).filter(n => n.source === 'development').map(n => n.name),
    python_version: c.python_version ?? null,
    comfyui_version: c.comfyui_version ?? null,
    platform: 'unknown',
    total_models: totals.models,
    total_nodes: totals.nodes,
    totals,
  }
}
