/**
 * @module What the user sees before an import changes anything: where the bundle comes from, what it
 * holds, which models are already here and what would be downloaded, the target name (NAME-1 on a
 * collision) and warnings (newer tool version, other platform). Built from the extracted bundle and
 * the target workspace only.
 */
import { ComfydockError } from '../errors'
import { markPresentModels, collectModelNeeds, selectModelDownloads, type ModelNeed, type ModelSelection, type ModelStrategy } from '../env'
import { pathExists } from '../fs'
import type { OnProgress } from '../protocol'
import { VERSION } from '../version'
import { envIncomplete, validateEnvName, type Workspace } from '../workspace'
import type { OpenedBundle } from './open-bundle'

interface SizeCount { count: number, bytes: number }

export interface ImportPreview {
  kind: OpenedBundle['kind']
  source: { environment: string, exported_at: string | null, comfydock_version: string, platform: string }
  comfyui_version: string | null
  python_version: string | null
  /** The environment name the import will create. */
  target: string
  /** The name asked for, when it was taken and `target` is NAME-n instead. */
  requested_name?: string
  workflows: string[]
  nodes: { registry: string[], git: string[], development: string[] }
  models: {
    unique: number
    bytes: number
    required: SizeCount
    flexible: SizeCount
    optional: SizeCount
    local: SizeCount
    missing: SizeCount
    /** Missing with no source: nobody can download them. */
    no_source: string[]
  }
  warnings: string[]
}

/** Model needs of a bundle against the target workspace's index, synced first (models on disk are found). */
export async function bundleModelNeeds (ws: Workspace, bundle: OpenedBundle, ctl: { onProgress?: OnProgress, signal?: AbortSignal } = {}): Promise<ModelNeed[]> {
  return markPresentModels(ws, collectModelNeeds(bundle.pyproject), ctl)
}

const sum = (needs: ModelNeed[]): SizeCount => ({ count: needs.length, bytes: needs.reduce((n, m) => n + (m.size ?? 0), 0) })

/** `name`, or `name-1`, `name-2`, … when an environment folder of that name exists. */
export async function freeEnvName (ws: Workspace, name: string): Promise<string> {
  validateEnvName(name)
  if (!(await pathExists(ws.env(name).root))) return name
  // a leftover of an interrupted import is reported, never silently worked around with another name
  if (!(await pathExists(ws.env(name).completeMarker))) throw envIncomplete(name, ws.env(name).root)
  for (let i = 1; i < 1000; i++) {
    const candidate = `${name}-${i}`
    if (!(await pathExists(ws.env(candidate).root))) return candidate
  }
  throw new ComfydockError('ENV_EXISTS', `environments "${name}" to "${name}-999" all exist`, { hint: 'Pass another name with `--name`.' })
}

/** Numeric comparison of dotted versions; non-numeric parts count as 0. */
export function isNewerVersion (candidate: string, current: string): boolean {
  const parse = (v: string): number[] => v.replace(/^v/, '').split(/[.+-]/).slice(0, 3).map(p => Number.parseInt(p, 10) || 0)
  const a = parse(candidate)
  const b = parse(current)
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0)
  return false
}

function defaultName (bundle: OpenedBundle): string {
  const name = bundle.manifest.environment_name
  try {
    validateEnvName(name)
    return name
  } catch {
    return 'imported'
  }
}

export async function previewImport (ws: Workspace, bundle: OpenedBundle, needs: ModelNeed[], name?: string): Promise<ImportPreview> {
  const requested = name ?? defaultName(bundle)
  const target = await freeEnvName(ws, requested)
  const m = bundle.manifest
  const nodes = Object.entries(bundle.pyproject.tool.comfydock.nodes ?? {}).sort(([a], [b]) => a.localeCompare(b))
  const warnings: string[] = []
  if (target !== requested) warnings.push(`environment "${requested}" exists, using "${target}"`)
  if (bundle.kind === 'comfydock' && isNewerVersion(m.comfydock_version, VERSION)) {
    warnings.push(`bundle made with a newer comfydock (${m.comfydock_version}, this is ${VERSION}); some settings may not be understood`)
  }
  if (m.platform !== 'unknown' && m.platform !== process.platform) {
    warnings.push(`bundle made on ${m.platform}, importing on ${process.platform}; packs with platform-specific requirements may fail`)
  }
  const missing = needs.filter(n => !n.present)
  const noSource = missing.filter(n => n.sources.length === 0).map(n => n.filename)
  if (noSource.length) warnings.push(`${noSource.length} model(s) have no download source and must be provided by hand: ${noSource.join(', ')}`)
  return {
    kind: bundle.kind,
    source: { environment: m.environment_name, exported_at: m.timestamp || null, comfydock_version: m.comfydock_version, platform: m.platform },
    comfyui_version: m.comfyui_version,
    python_version: m.python_version,
    target,
    ...(target !== requested ? { requested_name: requested } : {}),
    workflows: bundle.workflows,
    nodes: {
      registry: nodes.filter(([, n]) => n.source === 'registry').map(([id]) => id),
      git: nodes.filter(([, n]) => n.source === 'git').map(([id]) => id),
      development: nodes.filter(([, n]) => n.source === 'development').map(([id]) => id),
    },
    models: {
      unique: needs.length,
      bytes: sum(needs).bytes,
      required: sum(needs.filter(n => n.criticality === 'required')),
      flexible: sum(needs.filter(n => n.criticality === 'flexible')),
      optional: sum(needs.filter(n => n.criticality === 'optional')),
      local: sum(needs.filter(n => n.present)),
      missing: sum(missing),
      no_source: noSource,
    },
    warnings,
  }
}

export function chooseDownloads (needs: ModelNeed[], strategy: ModelStrategy): ModelSelection {
  return selectModelDownloads(needs.filter(n => !n.present), strategy)
}
