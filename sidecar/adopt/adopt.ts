/**
 * @module `adoptInstall`: a new environment made from a ComfyUI the user already has, which is only read:
 * the same ComfyUI commit (cloned from the user's own clone, so no network is needed), registry packs at
 * their versions and git packs at their commits (fetched from their sources, as an importer would), the
 * venv's packages pinned, and the model folders indexed where they are and named in the environment's
 * extra_model_paths.yaml (referenced, never copied).
 *
 * Only two things are the user's own files, and for each the user chooses (`AdoptChoices`), seeing what
 * it means in the preview: saved workflows are copied and tracked, or left out; development nodes are
 * copied (`.gitignore`d files and links stay behind), linked (the environment uses the user's folder, so
 * there is one working copy), or left out. Whatever is not carried over is listed with the reason.
 */
import { copyFile, mkdir, readFile, stat, symlink } from 'node:fs/promises'
import { basename, join } from 'node:path'
import YAML from 'yaml'
import { freeEnvName, parsePipLine, pinPips, planPips, type SnapshotItem, type SnapshotPip } from '../bundle'
import { listDevNodeFiles } from '../bundle/dev-node-files'
import { createEnvironment, commitEnvironment, type PackOutcome } from '../env'
import { ComfydockError } from '../errors'
import { run } from '../exec'
import { isDirectory, pathExists, writeFileAtomic } from '../fs'
import { ModelIndex, syncIndex } from '../models'
import { addNodes } from '../nodes'
import type { OnProgress } from '../protocol'
import { note, withTask } from '../progress'
import { trackWorkflows } from '../workflows'
import { validateEnvName, type EnvPaths, type Workspace } from '../workspace'
import { scanInstall, type InstallScan, type ScanNote } from './scan-install'

/** The dependency group that holds the adopted venv's packages. */
export const ADOPTED_PIPS_GROUP = 'adopted-pips'

/** What happens to the user's own files: their saved workflows and their development nodes. */
export interface AdoptChoices {
  /** copy: into the environment's user folder, tracked and committed; skip: left out. */
  workflows: 'copy' | 'skip'
  /** copy: the shareable files into the environment; link: the environment's folder is a link to the user's; skip: left out. */
  devNodes: 'copy' | 'link' | 'skip'
}

export const DEFAULT_ADOPT_CHOICES: AdoptChoices = { workflows: 'copy', devNodes: 'copy' }

/** A development node as the preview shows it: what copying it would take. */
export interface DevNodePreview {
  dir: string
  why: string
  files: number
  bytes: number
}

export interface AdoptPreview {
  source: string
  target: string
  requested_name?: string
  comfyui: { version: string | null, commit: string | null }
  packs: { registry: string[], git: string[], development: string[] }
  python: string | null
  model_dirs: string[]
  workflows: string[]
  /** The user's files and what happens to them. */
  choices: AdoptChoices
  dev_nodes: DevNodePreview[]
  /** Copied into the new environment (its own files from then on). */
  copied: { workflows: string[], dev_nodes: string[], files: number, bytes: number }
  /** Used where they are: never copied, never changed by comfydock. */
  referenced: { model_dirs: string[], dev_nodes: string[] }
  /** Everything that will not be carried over, with the reason. */
  not_adopted: ScanNote[]
}

export interface AdoptOptions {
  name?: string
  /** The interpreter whose packages are adopted; default: the venv found next to ComfyUI. */
  python?: string
  /** What to do with the user's workflows and development nodes; unset ones come from `choose`, then the defaults. */
  choices?: Partial<AdoptChoices>
  /** Asked with the preview when `choices` leaves something open (the CLI prompts on a terminal). */
  choose?: (preview: AdoptPreview) => Promise<Partial<AdoptChoices>>
  confirm?: (preview: AdoptPreview) => Promise<boolean>
  torchBackend?: string
  onProgress?: OnProgress
  signal?: AbortSignal
}

export interface AdoptResult {
  name: string
  path: string
  commit: string
  preview: AdoptPreview
  /** `development`: copied or linked, as chosen. */
  nodes: PackOutcome & { development: string[] }
  copied: AdoptPreview['copied']
  referenced: AdoptPreview['referenced']
  pips: { pinned: string[], skipped: SnapshotItem[], error?: string }
  models: { dirs: string[], indexed: number }
  workflows: { tracked: string[], issues: string[] }
  not_adopted: ScanNote[]
  ok: boolean
  next_steps: string[]
}

/** `name==version` and `name @ url` of every distribution the interpreter sees (pip not needed: uv venvs have none). */
async function readInstalledPackages (python: string): Promise<{ pips: SnapshotPip[], skipped: SnapshotItem[] }> {
  const script = [
    'import importlib.metadata as m, json',
    'out = []',
    'for d in m.distributions():',
    '    name = d.metadata["Name"]',
    '    if not name: continue',
    '    out.append([name, d.version, d.read_text("direct_url.json") or ""])',
    'print(json.dumps(out))',
  ].join('\n')
  const res = await run(python, ['-c', script], { allowFailure: true })
  if (res.code !== 0) return { pips: [], skipped: [{ item: python, reason: `cannot list its packages: ${(res.stderr.trim().split('\n').pop() ?? '').slice(0, 200)}` }] }
  const pips: SnapshotPip[] = []
  const skipped: SnapshotItem[] = []
  const seen = new Set<string>()
  for (const [name, version, direct] of JSON.parse(res.stdout) as Array<[string, string, string]>) {
    if (seen.has(name.toLowerCase())) continue
    seen.add(name.toLowerCase())
    let line = `${name}==${version}`
    if (direct) {
      try {
        const d = JSON.parse(direct) as { url?: string, dir_info?: { editable?: boolean }, vcs_info?: { vcs?: string, commit_id?: string } }
        if (d.dir_info?.editable) { skipped.push({ item: `${name} (editable from ${d.url})`, reason: 'an editable install of a folder on this machine' }); continue }
        if (d.url) line = `${name} @ ${d.vcs_info ? `${d.vcs_info.vcs ?? 'git'}+${d.url}${d.vcs_info.commit_id ? `@${d.vcs_info.commit_id}` : ''}` : d.url}`
      } catch { /* keep the plain pin */ }
    }
    const pip = parsePipLine(line)
    if (pip) pips.push(pip)
    else skipped.push({ item: line, reason: 'not a requirement comfydock can read' })
  }
  return { pips: pips.sort((a, b) => a.name.localeCompare(b.name)), skipped }
}

function defaultName (root: string): string {
  for (const candidate of [basename(root), basename(join(root, '..')), 'adopted']) {
    const n = candidate.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64)
    try {
      validateEnvName(n)
      if (n.toLowerCase() !== 'comfyui') return n
    } catch { /* next */ }
  }
  return 'adopted'
}

async function devNodePreviews (scan: InstallScan): Promise<DevNodePreview[]> {
  const out: DevNodePreview[] = []
  for (const p of scan.packs) {
    if (p.kind !== 'development') continue
    const files = await listDevNodeFiles(join(scan.root, 'custom_nodes', p.dir))
    out.push({ dir: p.dir, why: p.why, files: files.files.length, bytes: files.bytes })
  }
  return out
}

async function workflowBytes (scan: InstallScan): Promise<number> {
  let total = 0
  for (const wf of scan.workflows) total += (await stat(join(scan.root, 'user', 'default', 'workflows', wf)).catch(() => ({ size: 0 }))).size
  return total
}

function previewOf (scan: InstallScan, target: string, requested: string, choices: AdoptChoices, devNodes: DevNodePreview[], wfBytes: number): AdoptPreview {
  const copiedDev = choices.devNodes === 'copy' ? devNodes : []
  const workflows = choices.workflows === 'copy' ? scan.workflows : []
  return {
    source: scan.root,
    target,
    ...(target !== requested ? { requested_name: requested } : {}),
    comfyui: { version: scan.comfyui.tag, commit: scan.comfyui.commit },
    packs: {
      registry: scan.packs.flatMap(p => p.kind === 'registry' ? [p.spec] : []),
      git: scan.packs.flatMap(p => p.kind === 'git' ? [p.spec] : []),
      development: choices.devNodes === 'skip' ? [] : devNodes.map(d => `${d.dir} (${d.why})`),
    },
    python: scan.python,
    model_dirs: scan.modelDirs,
    workflows,
    choices,
    dev_nodes: devNodes,
    copied: {
      workflows,
      dev_nodes: copiedDev.map(d => d.dir),
      files: workflows.length + copiedDev.reduce((n, d) => n + d.files, 0),
      bytes: (workflows.length ? wfBytes : 0) + copiedDev.reduce((n, d) => n + d.bytes, 0),
    },
    referenced: { model_dirs: scan.modelDirs, dev_nodes: choices.devNodes === 'link' ? devNodes.map(d => d.dir) : [] },
    not_adopted: [
      ...scan.skipped,
      ...scan.notes,
      ...scan.packs.flatMap(p => p.kind === 'git' && p.localChanges.length ? [{ item: p.dir, reason: `uncommitted changes are not carried over: ${p.localChanges.slice(0, 3).join(', ')}` }] : []),
      ...(choices.devNodes === 'skip' ? devNodes.map(d => ({ item: d.dir, reason: 'a development node, left out as chosen (--dev-nodes copy or link adopts it)' })) : []),
      ...(choices.workflows === 'skip' && scan.workflows.length ? [{ item: `${scan.workflows.length} saved workflow(s)`, reason: 'left out as chosen (--workflows copy adopts them)' }] : []),
    ],
  }
}

/** Copies a development node's shareable files (as an export would: `.gitignore` honoured, no links). */
async function copyDevNode (from: string, to: string): Promise<void> {
  const files = await listDevNodeFiles(from)
  for (const f of files.files) {
    const dest = join(to, f.rel)
    await mkdir(join(dest, '..'), { recursive: true })
    await copyFile(f.abs, dest)
  }
  await mkdir(to, { recursive: true })
}

/** The environment's folder of a development node is a link to the user's own: one working copy for both. */
async function linkDevNode (from: string, to: string): Promise<void> {
  await mkdir(join(to, '..'), { recursive: true })
  await symlink(from, to, 'dir')
}

/**
 * The environment's extra_model_paths.yaml keeps its workspace section and gains the adopted install's
 * folders, so ComfyUI finds the files where they are.
 */
async function addModelPaths (env: EnvPaths, scan: InstallScan): Promise<void> {
  const doc = (YAML.parse(await readFile(env.extraModelPaths, 'utf8').catch(() => '')) ?? {}) as Record<string, unknown>
  const own = doc.comfydock as Record<string, string> | undefined
  if (own) {
    const { base_path: _base, ...folders } = own
    doc.adopted = { base_path: join(scan.root, 'models'), ...folders }
  }
  let i = 0
  for (const [folder, paths] of Object.entries(scan.extraModelPaths)) {
    doc[`adopted_extra_${i++}`] = { [folder]: paths.join('\n') }
  }
  await writeFileAtomic(env.extraModelPaths, '# Written by comfydock: the workspace models, then the adopted install\'s folders.\n' + YAML.stringify(doc))
}

export async function adoptInstall (ws: Workspace, folder: string, opts: AdoptOptions = {}): Promise<AdoptResult> {
  const scan = await withTask(opts.onProgress, `read ${folder}`, {}, () => scanInstall(folder))
  const requested = opts.name ?? defaultName(scan.root)
  const target = await freeEnvName(ws, requested)
  const devNodes = await devNodePreviews(scan)
  const wfBytes = await workflowBytes(scan)
  let choices: AdoptChoices = { ...DEFAULT_ADOPT_CHOICES, ...opts.choices }
  const open = (opts.choices?.workflows === undefined && scan.workflows.length > 0) || (opts.choices?.devNodes === undefined && devNodes.length > 0)
  if (opts.choose && open) choices = { ...choices, ...await opts.choose(previewOf(scan, target, requested, choices, devNodes, wfBytes)), ...opts.choices }
  const preview = previewOf(scan, target, requested, choices, devNodes, wfBytes)
  for (const n of preview.not_adopted) note(opts.onProgress, 'warn', `not adopted: ${n.item} (${n.reason})`)
  if (opts.confirm && !(await opts.confirm(preview))) throw new ComfydockError('CANCELLED', 'adopt cancelled; nothing was changed')

  const python = opts.python ?? scan.python
  const packages = python ? await readInstalledPackages(python) : { pips: [], skipped: [{ item: 'Python packages', reason: 'no venv found next to ComfyUI; pass --python <interpreter> to adopt its packages' }] }
  const plan = planPips(packages.pips)
  const pipsSkipped = [...packages.skipped, ...plan.skipped]
  let nodes: AdoptResult['nodes'] = { installed: [], failed: [], development: [] }
  let pinned: { pinned: string[], error?: string } = { pinned: [] }

  const comfyuiRef = scan.comfyui.commit ?? scan.comfyui.tag ?? undefined
  const created = await createEnvironment(ws, target, {
    comfyui: comfyuiRef,
    comfyuiSource: scan.comfyui.commit ? scan.root : undefined,
    torchBackend: opts.torchBackend,
    commitMessage: `Adopt ComfyUI from ${scan.root}`,
    beforeCommit: async (env, ctl) => {
      const specs = scan.packs.flatMap(p => p.kind === 'development' ? [] : [p.spec])
      const batch = await addNodes(ws, env, specs, ctl)
      const dev = choices.devNodes === 'skip' ? [] : devNodes.map(d => d.dir)
      for (const d of dev) {
        const from = join(scan.root, 'custom_nodes', d)
        if (choices.devNodes === 'link') await linkDevNode(from, join(env.customNodes, d))
        else await copyDevNode(from, join(env.customNodes, d))
      }
      const devBatch = dev.length ? await addNodes(ws, env, dev, { ...ctl, dev: true }) : { results: [] }
      const all = [...batch.results, ...devBatch.results]
      nodes = {
        installed: batch.results.filter(r => r.ok).map(r => r.id ?? r.spec),
        failed: all.filter(r => !r.ok).map(r => ({ id: r.spec, error: r.error ?? { code: 'NODE_INSTALL_FAILED', message: 'install failed' } })),
        development: devBatch.results.filter(r => r.ok).map(r => r.id ?? r.spec),
      }
      pinned = await pinPips(ws, env, plan.pins, ctl, ADOPTED_PIPS_GROUP)
      if (pinned.error) note(ctl.onProgress, 'warn', `pip pins left out: ${pinned.error.replace(/:\n/, ': ').replace(/\n/g, '; ')}`)
      await addModelPaths(env, scan)
    },
  }, { onProgress: opts.onProgress, signal: opts.signal })
  const env = ws.env(created.name)

  const dirs = (await Promise.all(scan.modelDirs.map(async d => (await isDirectory(d)) ? d : null))).filter((d): d is string => d !== null)
  const index = ModelIndex.open(ws)
  try { for (const d of dirs) index.addDir(d) } finally { index.close() }
  const scanned = await syncIndex(ws, { onProgress: opts.onProgress, signal: opts.signal })

  const tracked: string[] = []
  const issues: string[] = []
  let commit = created.commit
  if (preview.copied.workflows.length) {
    await mkdir(env.userWorkflows, { recursive: true })
    for (const wf of preview.copied.workflows) {
      const dest = join(env.userWorkflows, wf)
      await mkdir(join(dest, '..'), { recursive: true })
      if (!(await pathExists(dest))) await copyFile(join(scan.root, 'user', 'default', 'workflows', wf), dest)
    }
    const names = preview.copied.workflows.map(w => w.replace(/\.json$/, ''))
    tracked.push(...await trackWorkflows(env, names))
    const res = await commitEnvironment(ws, env, { message: `Track ${names.length} workflow(s) from ${scan.root}`, allowIssues: true, onProgress: opts.onProgress, signal: opts.signal })
    commit = res.commit
    for (const i of res.workflows.issues) issues.push(`${i.workflow}: ${i.message}`)
  }

  const notAdopted = [...preview.not_adopted, ...pipsSkipped]
  const steps = nodes.failed.map(f => `Retry: \`comfydock -e ${created.name} node add ${f.id}\``)
  if (issues.length) steps.push(`Resolve the workflows: \`comfydock -e ${created.name} workflow status\``)
  steps.push(`Start the adopted environment: \`comfydock -e ${created.name} run\` (your ComfyUI at ${scan.root} is unchanged)`)
  return {
    name: created.name,
    path: created.path,
    commit,
    preview,
    nodes,
    copied: preview.copied,
    referenced: preview.referenced,
    pips: { pinned: pinned.pinned, skipped: pipsSkipped, ...(pinned.error ? { error: pinned.error } : {}) },
    models: { dirs, indexed: scanned.models },
    workflows: { tracked, issues },
    not_adopted: notAdopted,
    ok: nodes.failed.length === 0 && !pinned.error,
    next_steps: steps,
  }
}
