/**
 * @module `adoptInstall`: a new environment made from a ComfyUI the user already has, which is only read:
 * the same ComfyUI commit (cloned from the user's own clone, so no network is needed), registry packs at
 * their versions and git packs at their commits (fetched from their sources, as an importer would),
 * development nodes copied (their source is what the user asked to adopt; `.gitignore`d files and links
 * stay behind), the venv's packages pinned, the model folders indexed where they are and named in the
 * environment's extra_model_paths.yaml (referenced, never copied), and the saved workflows tracked and
 * committed. Whatever could not be identified or carried over is listed with the reason.
 */
import { copyFile, mkdir, readFile } from 'node:fs/promises'
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

export interface AdoptPreview {
  source: string
  target: string
  requested_name?: string
  comfyui: { version: string | null, commit: string | null }
  packs: { registry: string[], git: string[], development: string[] }
  python: string | null
  model_dirs: string[]
  workflows: string[]
  /** Everything that will not be carried over, with the reason. */
  not_adopted: ScanNote[]
}

export interface AdoptOptions {
  name?: string
  /** The interpreter whose packages are adopted; default: the venv found next to ComfyUI. */
  python?: string
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
  nodes: PackOutcome & { development: string[] }
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

function previewOf (scan: InstallScan, target: string, requested: string): AdoptPreview {
  return {
    source: scan.root,
    target,
    ...(target !== requested ? { requested_name: requested } : {}),
    comfyui: { version: scan.comfyui.tag, commit: scan.comfyui.commit },
    packs: {
      registry: scan.packs.flatMap(p => p.kind === 'registry' ? [p.spec] : []),
      git: scan.packs.flatMap(p => p.kind === 'git' ? [p.spec] : []),
      development: scan.packs.flatMap(p => p.kind === 'development' ? [`${p.dir} (${p.why})`] : []),
    },
    python: scan.python,
    model_dirs: scan.modelDirs,
    workflows: scan.workflows,
    not_adopted: [
      ...scan.skipped,
      ...scan.notes,
      ...scan.packs.flatMap(p => p.kind === 'git' && p.localChanges.length ? [{ item: p.dir, reason: `uncommitted changes are not carried over: ${p.localChanges.slice(0, 3).join(', ')}` }] : []),
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
  const preview = previewOf(scan, target, requested)
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
      const dev = scan.packs.flatMap(p => p.kind === 'development' ? [p.dir] : [])
      for (const d of dev) await copyDevNode(join(scan.root, 'custom_nodes', d), join(env.customNodes, d))
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
  if (scan.workflows.length) {
    await mkdir(env.userWorkflows, { recursive: true })
    for (const wf of scan.workflows) {
      const dest = join(env.userWorkflows, wf)
      await mkdir(join(dest, '..'), { recursive: true })
      if (!(await pathExists(dest))) await copyFile(join(scan.root, 'user', 'default', 'workflows', wf), dest)
    }
    const names = scan.workflows.map(w => w.replace(/\.json$/, ''))
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
    pips: { pinned: pinned.pinned, skipped: pipsSkipped, ...(pinned.error ? { error: pinned.error } : {}) },
    models: { dirs, indexed: scanned.models },
    workflows: { tracked, issues },
    not_adopted: notAdopted,
    ok: nodes.failed.length === 0 && !pinned.error,
    next_steps: steps,
  }
}
