/**
 * @module `importManagerSnapshot`: a ComfyUI-Manager snapshot into a new environment at the snapshot's
 * ComfyUI commit, with its registry packs at their versions and git packs at their commits. Packs are
 * added one by one through `addNodes` (each its own transaction); failures are collected. Disabled
 * packs, loose .py files and pip pins are reported, not installed (Manager's own restore skips pips too).
 */
import { basename } from 'node:path'
import { ComfydockError } from '../errors'
import { createEnvironment } from '../env'
import type { PackOutcome } from '../env'
import { addNodes } from '../nodes'
import type { OnProgress } from '../protocol'
import { note } from '../progress'
import { validateEnvName, type Workspace } from '../workspace'
import { freeEnvName } from './import-preview'
import { readManagerSnapshot, type ManagerSnapshot } from './manager-snapshot'

export interface SnapshotPreview {
  file: string
  target: string
  requested_name?: string
  comfyui: string | null
  packs: string[]
  /** Listed in the snapshot but not installed, with the reason. */
  not_installed: Array<{ item: string, reason: string }>
  pips: number
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
  ok: boolean
  next_steps: string[]
}

function nameFromFile (file: string): string {
  const base = basename(file).replace(/\.(json|ya?ml)$/i, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64)
  try {
    validateEnvName(base)
    return base
  } catch {
    return 'snapshot'
  }
}

async function previewSnapshot (ws: Workspace, file: string, snap: ManagerSnapshot, name?: string): Promise<SnapshotPreview> {
  const requested = name ?? nameFromFile(file)
  const target = await freeEnvName(ws, requested)
  const notInstalled = [
    ...snap.disabled.map(item => ({ item, reason: 'disabled in the snapshot' })),
    ...snap.files.map(item => ({ item, reason: 'a loose file in custom_nodes, with no source to fetch' })),
  ]
  const warnings: string[] = []
  if (target !== requested) warnings.push(`environment "${requested}" exists, using "${target}"`)
  if (!snap.comfyui) warnings.push('the snapshot names no ComfyUI commit; using the newest release')
  if (snap.pips.length) warnings.push(`${snap.pips.length} pip pins are not installed (as in ComfyUI-Manager's restore); packs bring their own requirements`)
  return {
    file,
    target,
    ...(target !== requested ? { requested_name: requested } : {}),
    comfyui: snap.comfyui,
    packs: snap.packs.map(p => p.spec),
    not_installed: notInstalled,
    pips: snap.pips.length,
    warnings,
  }
}

export async function importManagerSnapshot (ws: Workspace, file: string, opts: SnapshotImportOptions = {}): Promise<SnapshotImportResult> {
  const snap = await readManagerSnapshot(file)
  const preview = await previewSnapshot(ws, file, snap, opts.name)
  for (const w of preview.warnings) note(opts.onProgress, 'warn', w)
  if (opts.confirm && !(await opts.confirm(preview))) throw new ComfydockError('CANCELLED', 'import cancelled; nothing was changed')
  let nodes: PackOutcome = { installed: [], failed: [] }
  const created = await createEnvironment(ws, preview.target, {
    comfyui: snap.comfyui ?? undefined,
    python: opts.python,
    torchBackend: opts.torchBackend,
    commitMessage: 'Initial import from ComfyUI-Manager snapshot',
    beforeCommit: async (env, ctl) => {
      const batch = await addNodes(ws, env, preview.packs, ctl)
      nodes = {
        installed: batch.results.filter(r => r.ok).map(r => r.id ?? r.spec),
        failed: batch.results.filter(r => !r.ok).map(r => ({ id: r.spec, error: r.error ?? { code: 'NODE_INSTALL_FAILED', message: 'install failed' } })),
      }
    },
  }, { onProgress: opts.onProgress, signal: opts.signal })
  const steps = nodes.failed.length
    ? nodes.failed.map(f => `Retry: \`comfydock -e ${created.name} node add ${f.id}\``)
    : []
  steps.push(`Start ComfyUI: \`comfydock -e ${created.name} run\``)
  return { name: created.name, path: created.path, commit: created.commit, preview, nodes, ok: nodes.failed.length === 0, next_steps: steps }
}
