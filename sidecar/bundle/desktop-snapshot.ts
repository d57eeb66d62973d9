/**
 * @module ComfyUI Desktop 2.0 snapshot exports: the `comfyui-desktop-2-snapshot` envelope (version 1, or
 * 2 with a torch stack) holding snapshots newest first, each with the ComfyUI ref/commit, the scanned
 * packs (`cnr` by version, `git` by URL and commit, `file`), `uv pip freeze` and the Python version.
 * The newest snapshot is imported. The torch stack and the build variant describe the machine that made
 * it: they are reported, never carried into the shared manifest.
 */
import { z } from 'zod'
import {
  isLocalOnlySource, readSnapshotText, snapshotError, unknownFields,
  type ForeignSnapshot, type SnapshotItem, type SnapshotPack, type SnapshotPip,
} from './foreign-snapshot'

export const DESKTOP_SNAPSHOT_TYPE = 'comfyui-desktop-2-snapshot'
const LABEL = 'ComfyUI Desktop 2.0 snapshot'

const nodeSchema = z.object({
  id: z.string().min(1),
  type: z.enum(['cnr', 'git', 'file']),
  dirName: z.string().min(1),
  enabled: z.boolean().default(true),
  version: z.string().optional(),
  commit: z.string().nullable().optional(),
  url: z.string().nullable().optional(),
}).passthrough()

const snapshotSchema = z.object({
  version: z.union([z.literal(1), z.literal(2)]),
  createdAt: z.string(),
  trigger: z.string(),
  label: z.string().nullable().optional(),
  comfyui: z.object({
    ref: z.string().optional(),
    commit: z.string().nullable().optional(),
    releaseTag: z.string().optional(),
    variant: z.string().optional(),
    baseTag: z.string().optional(),
    commitsAhead: z.number().optional(),
  }).passthrough(),
  customNodes: z.array(nodeSchema),
  pipPackages: z.record(z.string()),
  skipPipSync: z.boolean().optional(),
  pythonVersion: z.string().optional(),
  updateChannel: z.string().optional(),
  torchStack: z.record(z.unknown()).optional(),
}).passthrough()

const envelopeSchema = z.object({
  type: z.literal(DESKTOP_SNAPSHOT_TYPE),
  version: z.union([z.literal(1), z.literal(2)]),
  exportedAt: z.string().optional(),
  installationName: z.string().optional(),
  snapshots: z.array(snapshotSchema).min(1),
}).passthrough()

const PIP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/
const PIP_VERSION = /^[A-Za-z0-9][A-Za-z0-9._+!-]*$/

export function looksLikeDesktopSnapshot (raw: unknown): boolean {
  return !!raw && typeof raw === 'object' && (raw as { type?: unknown }).type === DESKTOP_SNAPSHOT_TYPE
}

export function desktopSnapshotFromData (raw: unknown, file: string): ForeignSnapshot {
  const version = (raw as { version?: unknown }).version
  if (version !== 1 && version !== 2) throw snapshotError(file, LABEL, `envelope version ${String(version)} is not one comfydock reads (1 or 2)`)
  const parsed = envelopeSchema.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw snapshotError(file, LABEL, `${issue.path.join('.')}: ${issue.message}`)
  }
  const env = parsed.data
  const snap = env.snapshots[0]
  const unknown = [
    ...unknownFields(env, ['type', 'version', 'exportedAt', 'installationName', 'snapshots']),
    ...unknownFields(snap, ['version', 'createdAt', 'trigger', 'label', 'comfyui', 'customNodes', 'pipPackages', 'skipPipSync', 'pythonVersion', 'updateChannel', 'torchStack'], 'snapshot.'),
    ...unknownFields(snap.comfyui, ['ref', 'commit', 'releaseTag', 'variant', 'baseTag', 'commitsAhead'], 'snapshot.comfyui.'),
  ]
  const notes: string[] = []
  if (env.snapshots.length > 1) notes.push(`the file holds ${env.snapshots.length} snapshots; the newest (${snap.createdAt}, ${snap.trigger}) is imported`)
  if (snap.comfyui.variant) notes.push(`build variant "${snap.comfyui.variant}" is machine-local; this machine's torch backend is used`)
  if (snap.torchStack) notes.push(`torch stack (${JSON.stringify(snap.torchStack).slice(0, 100)}) is machine-local; torch follows this machine's backend`)
  if (snap.updateChannel) notes.push(`update channel "${snap.updateChannel}" is a Desktop setting; not used`)

  const packs: SnapshotPack[] = []
  const notInstalled: SnapshotItem[] = []
  for (const n of snap.customNodes) {
    unknown.push(...unknownFields(n, ['id', 'type', 'dirName', 'enabled', 'version', 'commit', 'url'], `customNodes.${n.dirName}.`))
    if (!n.enabled) { notInstalled.push({ item: n.url ?? n.id, reason: 'disabled in the snapshot' }); continue }
    if (n.type === 'file') { notInstalled.push({ item: n.dirName, reason: 'a loose file in custom_nodes; the snapshot has no source to fetch it from' }); continue }
    if (n.type === 'cnr') {
      if (!n.version) { notInstalled.push({ item: n.id, reason: 'a registry pack without a version' }); continue }
      packs.push({ kind: 'registry', id: n.id, version: n.version, spec: `${n.id}@${n.version}` })
      continue
    }
    if (!n.url) { notInstalled.push({ item: n.dirName, reason: 'a git pack without a remote URL (a local clone)' }); continue }
    if (isLocalOnlySource(n.url)) notes.push(`${n.url} is a local source: it installs only where that repository exists`)
    const commit = n.commit?.trim()
    packs.push({ kind: 'git', id: n.url, version: commit ?? undefined, spec: commit ? `${n.url}@${commit}` : n.url })
  }
  const pips: SnapshotPip[] = []
  for (const [name, v] of Object.entries(snap.pipPackages).sort(([a], [b]) => a.localeCompare(b))) {
    if (PIP_NAME.test(name) && PIP_VERSION.test(v)) pips.push({ name, version: v, text: `${name}==${v}` })
    else notInstalled.push({ item: `${name} ${v}`, reason: 'not a pip package and version comfydock can read' })
  }
  return {
    format: 'comfyui-desktop-2',
    label: LABEL,
    comfyui: snap.comfyui.commit ?? snap.comfyui.ref ?? snap.comfyui.releaseTag ?? null,
    python: snap.pythonVersion ? snap.pythonVersion.split('.').slice(0, 2).join('.') : null,
    packs,
    notInstalled,
    pips,
    ...(snap.skipPipSync ? { pipsInformational: 'Desktop recorded them for information only (skipPipSync)' } : {}),
    unknown,
    notes,
    ...(env.installationName ? { suggestedName: env.installationName } : {}),
  }
}

export async function readDesktopSnapshot (file: string): Promise<ForeignSnapshot> {
  let raw: unknown
  try {
    raw = JSON.parse(await readSnapshotText(file))
  } catch (err) {
    throw snapshotError(file, LABEL, (err as Error).message.split('\n')[0])
  }
  return desktopSnapshotFromData(raw, file)
}
