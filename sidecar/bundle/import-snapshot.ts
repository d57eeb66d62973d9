/**
 * @module `importSnapshot`: a ComfyUI-Manager snapshot (JSON/YAML) or a ComfyUI Desktop 2.0 export into a
 * new environment at the snapshot's ComfyUI commit, with its registry packs at their versions, git packs
 * at their commits, and its pip freeze pinned in the `snapshot-pips` dependency group so the venv gets the
 * same versions (machine-local packages such as torch and CUDA wheels excepted: they follow this
 * machine's backend). Packs are added one by one (each its own transaction); failures are collected.
 * The result says what was mapped, what was not and why, and which fields were not understood.
 */
import { basename } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { ComfydockError } from '../errors'
import { createEnvironment } from '../env'
import type { PackOutcome } from '../env'
import { readManifest, writeManifest } from '../manifest'
import { addNodes } from '../nodes'
import type { OnProgress } from '../protocol'
import { note, withTask } from '../progress'
import { openPythonBackend } from '../python'
import { validateEnvName, type EnvPaths, type Workspace } from '../workspace'
import { desktopSnapshotFromData, looksLikeDesktopSnapshot } from './desktop-snapshot'
import { isLocalOnlySource, isMachineLocalPackage, readSnapshotText, snapshotError, type ForeignSnapshot, type SnapshotItem, type SnapshotPip } from './foreign-snapshot'
import { freeEnvName } from './import-preview'
import { managerSnapshotFromData } from './manager-snapshot'

/** The dependency group that holds a snapshot's pip pins. */
export const SNAPSHOT_PIPS_GROUP = 'snapshot-pips'

export interface SnapshotPreview {
  file: string
  /** "ComfyUI-Manager snapshot" or "ComfyUI Desktop 2.0 snapshot". */
  format: string
  target: string
  requested_name?: string
  comfyui: string | null
  python: string | null
  packs: string[]
  /** Pip requirements that will be pinned in the environment. */
  pips: string[]
  /** Listed in the snapshot but not installed, with the reason. */
  not_installed: SnapshotItem[]
  /** Fields of the file comfydock does not understand. */
  unknown_fields: string[]
  /** Read but kept machine-local on purpose. */
  notes: string[]
  warnings: string[]
}

export interface SnapshotImportOptions {
  name?: string
  confirm?: (preview: SnapshotPreview) => Promise<boolean>
  python?: string
  torchBackend?: string
  onProgress?: OnProgress
  signal?: AbortSignal
}

export interface SnapshotImportResult {
  name: string
  path: string
  commit: string
  preview: SnapshotPreview
  nodes: PackOutcome
  /** Pins that went into the environment, or why they could not. */
  pips: { pinned: string[], error?: string }
  ok: boolean
  next_steps: string[]
}

/** Reads a snapshot of any supported kind: Desktop envelopes by their `type`, else a Manager snapshot. */
export async function readForeignSnapshot (file: string): Promise<ForeignSnapshot> {
  const text = await readSnapshotText(file)
  let raw: unknown
  try {
    raw = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text)
  } catch (err) {
    throw snapshotError(file, 'snapshot', (err as Error).message.split('\n')[0])
  }
  return looksLikeDesktopSnapshot(raw) ? desktopSnapshotFromData(raw, file) : managerSnapshotFromData(raw, file)
}

function validName (candidate: string | undefined): string | undefined {
  const base = (candidate ?? '').replace(/\.(json|ya?ml)$/i, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').replace(/-+$/, '').slice(0, 64)
  try {
    validateEnvName(base)
    return base
  } catch {
    return undefined
  }
}

/** Which pips become pins, and which stay out with the reason. */
export function planSnapshotPips (snap: ForeignSnapshot): { pins: string[], skipped: SnapshotItem[] } {
  if (snap.pipsInformational) {
    return { pins: [], skipped: snap.pips.length ? [{ item: `${snap.pips.length} pip packages`, reason: snap.pipsInformational }] : [] }
  }
  return planPips(snap.pips)
}

/** Pins for a pip freeze: machine-local packages (torch, CUDA wheels, installers) and local files stay out. */
export function planPips (list: SnapshotPip[]): { pins: string[], skipped: SnapshotItem[] } {
  const pins: string[] = []
  const skipped: SnapshotItem[] = []
  for (const p of list) {
    if (isMachineLocalPackage(p.name)) skipped.push({ item: p.text, reason: 'machine-local (GPU/installer); this machine\'s version is used' })
    else if (p.url && isLocalOnlySource(p.url)) skipped.push({ item: p.text, reason: 'installed from a file on the machine that made the snapshot' })
    else pins.push(p.url ? `${p.name} @ ${p.url}` : `${p.name}==${p.version}`)
  }
  return { pins, skipped }
}

async function previewSnapshot (ws: Workspace, file: string, snap: ForeignSnapshot, name?: string): Promise<SnapshotPreview> {
  const requested = name ?? validName(basename(file)) ?? validName(snap.suggestedName) ?? 'snapshot'
  const target = await freeEnvName(ws, requested)
  const pips = planSnapshotPips(snap)
  const warnings: string[] = []
  if (target !== requested) warnings.push(`environment "${requested}" exists, using "${target}"`)
  if (!snap.comfyui) warnings.push('the snapshot names no ComfyUI commit; using the newest release')
  for (const u of snap.unknown) warnings.push(`not understood, ignored: ${u}`)
  return {
    file,
    format: snap.label,
    target,
    ...(target !== requested ? { requested_name: requested } : {}),
    comfyui: snap.comfyui,
    python: snap.python,
    packs: snap.packs.map(p => p.spec),
    pips: pips.pins,
    not_installed: [...snap.notInstalled, ...pips.skipped],
    unknown_fields: snap.unknown,
    notes: [...snap.notes, ...(snap.python ? [`made with Python ${snap.python}; pass --python to use the same`] : [])],
    warnings,
  }
}

/**
 * Pins the snapshot's pips in their own dependency group, unless they cannot be installed together with
 * what ComfyUI and the packs need: then the group is left out and the conflict reported (the packs' own
 * requirements still install).
 */
export async function pinPips (ws: Workspace, env: EnvPaths, pins: string[], ctl: { onProgress?: OnProgress }, group = SNAPSHOT_PIPS_GROUP): Promise<{ pinned: string[], error?: string }> {
  if (pins.length === 0) return { pinned: [] }
  return withTask(ctl.onProgress, `pin ${pins.length} pip packages`, {}, async () => {
    const doc = await readManifest(env.pyproject)
    doc['dependency-groups'] = { ...doc['dependency-groups'], [group]: pins }
    try {
      await (await openPythonBackend(ws, env)).check(doc)
    } catch (err) {
      // a conflict, or pins no index has (named all at once): either way the group cannot be installed
      if (!(err instanceof ComfydockError) || (err.code !== 'DEPENDENCY_CONFLICT' && err.code !== 'PYTHON_SYNC_FAILED')) throw err
      return { pinned: [], error: err.message }
    }
    await writeManifest(env.pyproject, doc)
    return { pinned: pins }
  })
}

export async function importSnapshot (ws: Workspace, file: string, opts: SnapshotImportOptions = {}): Promise<SnapshotImportResult> {
  const snap = await readForeignSnapshot(file)
  const preview = await previewSnapshot(ws, file, snap, opts.name)
  for (const w of preview.warnings) note(opts.onProgress, 'warn', w)
  if (opts.confirm && !(await opts.confirm(preview))) throw new ComfydockError('CANCELLED', 'import cancelled; nothing was changed')
  let nodes: PackOutcome = { installed: [], failed: [] }
  let pips: SnapshotImportResult['pips'] = { pinned: [] }
  const created = await createEnvironment(ws, preview.target, {
    comfyui: snap.comfyui ?? undefined,
    python: opts.python,
    torchBackend: opts.torchBackend,
    commitMessage: `Initial import from ${snap.label}`,
    beforeCommit: async (env, ctl) => {
      const batch = await addNodes(ws, env, preview.packs, ctl)
      nodes = {
        installed: batch.results.filter(r => r.ok).map(r => r.id ?? r.spec),
        failed: batch.results.filter(r => !r.ok).map(r => ({ id: r.spec, error: r.error ?? { code: 'NODE_INSTALL_FAILED', message: 'install failed' } })),
      }
      pips = await pinPips(ws, env, preview.pips, ctl)
      if (pips.error) note(ctl.onProgress, 'warn', `pip pins left out: ${pips.error.replace(/:\n/, ': ').replace(/\n/g, '; ')}`)
    },
  }, { onProgress: opts.onProgress, signal: opts.signal })
  const steps = nodes.failed.map(f => `Retry: \`comfydock -e ${created.name} node add ${f.id}\``)
  if (pips.error) steps.push(`Resolve the pip conflict, then pin what you need: edit [dependency-groups] in ${created.name}/.cec/pyproject.toml and run \`comfydock -e ${created.name} repair\``)
  steps.push(`Start ComfyUI: \`comfydock -e ${created.name} run\``)
  return {
    name: created.name,
    path: created.path,
    commit: created.commit,
    preview,
    nodes,
    pips,
    ok: nodes.failed.length === 0 && !pips.error,
    next_steps: steps,
  }
}
