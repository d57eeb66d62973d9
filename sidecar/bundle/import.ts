/**
 * @module `importBundle`: a bundle (ours, or the original tool's 1.0.x) into a new environment.
 * Everything is validated and previewed before the workspace changes; the confirmation and the model
 * strategy come from callbacks. The environment is made by `createEnvironment` with the bundled
 * manifest, so any failure up to the first commit removes it completely. Pack installs and model
 * downloads are collected per item: one failing never stops the import.
 */
import { copyFile, cp, mkdir, rename } from 'node:fs/promises'
import { join } from 'node:path'
import { ComfydockError, redactSecrets } from '../errors'
import { createEnvironment } from '../env'
import { BUNDLE_DIR_PREFIX, removeInterruptedWork } from '../env/interrupted'
import { downloadModelNeeds, installPinnedPacks, type ModelDownloadOutcome, type ModelNeed, type ModelStrategy, type PackOutcome } from '../env'
import { isDirectory, pathExists, safeDescendant } from '../fs'
import { ensureFreeSpace } from '../net'
import type { OnProgress } from '../protocol'
import { note, withTask } from '../progress'
import { requirementsLockPath, type SyncOutcome } from '../python'
import { packDir, type EnvPaths, type Workspace } from '../workspace'
import { BUNDLE_FILES } from './format'
import { bundleModelNeeds, chooseDownloads, previewImport, type ImportPreview } from './import-preview'
import { readExtractedBundle, withOpenedBundle, type OpenedBundle } from './open-bundle'
import type { ExtractLimits } from './safe-extract'
import { normalizeLegacyManifest } from './legacy-bundle'

export interface ImportOptions {
  /** Environment name; default: the bundle's (NAME-1, NAME-2 … when taken). */
  name?: string
  /** Which missing models to download; when absent `chooseModels` is asked, else "required". */
  models?: ModelStrategy
  /** Asked once the bundle is validated; false cancels with nothing changed. Absent: go ahead. */
  confirm?: (preview: ImportPreview) => Promise<boolean>
  chooseModels?: (preview: ImportPreview) => Promise<ModelStrategy | undefined>
  python?: string
  pythonPath?: string
  systemSitePackages?: boolean
  torchBackend?: string
  limits?: Partial<ExtractLimits>
  /**
   * The folder is a clone of an environment's repository (`clone`): its `.git` becomes the new `.cec`'s,
   * so history and the remote come along and push/pull work at once. The manifest is used as it is.
   */
  fromRepository?: { gitDir: string, url: string }
  onProgress?: OnProgress
  signal?: AbortSignal
}

export interface ImportResult {
  name: string
  path: string
  commit: string
  preview: ImportPreview
  /** The installer, and whether the bundle's lock was installed as it was or the requirements resolved afresh. */
  python: { backend: 'uv' | 'pip' } & SyncOutcome
  nodes: PackOutcome & { development: string[] }
  models: ModelDownloadOutcome & { strategy: ModelStrategy, local: string[], skipped: string[], unavailable: string[] }
  workflows: string[]
  ok: boolean
  next_steps: string[]
}

async function copyBundleContent (bundle: OpenedBundle, env: EnvPaths): Promise<void> {
  // ComfyGit's uv.lock holds the exporter's platform-specific torch wheels (it git-ignores it itself).
  if (bundle.kind !== 'comfygit' && await pathExists(join(bundle.dir, BUNDLE_FILES.uvLock))) await copyFile(join(bundle.dir, BUNDLE_FILES.uvLock), env.uvLock)
  const requirementsLock = join(bundle.dir, BUNDLE_FILES.requirementsLock)
  if (await pathExists(requirementsLock)) await copyFile(requirementsLock, requirementsLockPath(env))
  const workflows = join(bundle.dir, BUNDLE_FILES.workflows)
  if (await isDirectory(workflows)) await cp(workflows, env.cecWorkflows, { recursive: true })
  for (const node of bundle.devNodes) {
    const dest = packDir(env, node)
    if (await pathExists(dest)) {
      throw new ComfydockError('NODE_INSTALL_FAILED', `development node "${node}" clashes with ${dest}, which ComfyUI already has`)
    }
    await cp(join(bundle.dir, BUNDLE_FILES.devNodes, node), dest, { recursive: true, verbatimSymlinks: true })
  }
}

async function copyWorkflowsToUser (bundle: OpenedBundle, env: EnvPaths): Promise<void> {
  await mkdir(env.userWorkflows, { recursive: true })
  for (const wf of bundle.workflows) {
    const dest = safeDescendant(env.userWorkflows, wf, 'workflow file')
    await mkdir(join(dest, '..'), { recursive: true })
    await copyFile(safeDescendant(env.cecWorkflows, wf, 'workflow file'), dest)
  }
}

function nextSteps (res: Omit<ImportResult, 'next_steps'>): string[] {
  const steps: string[] = []
  if (res.nodes.failed.length) steps.push(`Retry the packs that failed: \`comfydock -e ${res.name} repair\``)
  if (res.models.failed.length || res.models.skipped.length) steps.push(`Download the remaining models: \`comfydock -e ${res.name} repair --models all\``)
  if (res.models.unavailable.length) steps.push(`Provide models without a source by hand, then run \`comfydock -e ${res.name} status\``)
  steps.push(`Start ComfyUI: \`comfydock -e ${res.name} run\``)
  return steps
}

/**
 * `file` is a bundle (.tar.gz), or a folder holding an environment's manifest: a ComfyGit environment
 * folder (its `.cec/`), a clone of its repository, or an extracted bundle. A folder is only read.
 */
export async function importBundle (ws: Workspace, file: string, opts: ImportOptions = {}): Promise<ImportResult> {
  if (await isDirectory(file)) {
    const dir = await pathExists(join(file, '.cec', BUNDLE_FILES.pyproject)) ? join(file, '.cec') : file
    return importOpened(ws, await readExtractedBundle(dir), opts)
  }
  // Extracted inside the workspace (hidden, named for this process), so a killed import's files are
  // found and removed by the next run instead of lingering in the system's temp folder.
  await mkdir(ws.paths.environments, { recursive: true })
  const removed = await removeInterruptedWork(ws)
  if (removed.length) note(opts.onProgress, 'info', `removed what an interrupted create or import left: ${removed.join(', ')}`)
  return withOpenedBundle(file, bundle => importOpened(ws, bundle, opts), {
    limits: opts.limits, onProgress: opts.onProgress, signal: opts.signal, tempParent: ws.paths.environments, tempPrefix: BUNDLE_DIR_PREFIX(),
  })
}

async function importOpened (ws: Workspace, bundle: OpenedBundle, opts: ImportOptions): Promise<ImportResult> {
  {
    const needs = await bundleModelNeeds(ws, bundle, { onProgress: opts.onProgress, signal: opts.signal })
    const preview = await previewImport(ws, bundle, needs, opts.name)
    for (const w of preview.warnings) note(opts.onProgress, 'warn', w)
    if (opts.confirm && !(await opts.confirm(preview))) {
      throw new ComfydockError('CANCELLED', 'import cancelled; nothing was changed')
    }
    const strategy = opts.models ?? (await opts.chooseModels?.(preview)) ?? 'required'
    const selection = chooseDownloads(needs, strategy)
    const downloadBytes = selection.download.reduce((n, m) => n + (m.size ?? 0), 0)
    await mkdir(ws.modelsDir, { recursive: true })
    await ensureFreeSpace(ws.modelsDir, downloadBytes, `downloading ${selection.download.length} model(s)`)

    let packs: PackOutcome = { installed: [], failed: [] }
    let downloads: ModelDownloadOutcome = { downloaded: [], failed: [] }
    let manifest = bundle.pyproject
    for (const n of bundle.notes) note(opts.onProgress, 'info', n)
    if (bundle.kind !== 'comfydock' && !opts.fromRepository) {
      const normalized = await normalizeLegacyManifest(ws, bundle.pyproject)
      for (const n of normalized.notes) note(opts.onProgress, 'info', n)
      manifest = normalized.doc
    }
    const created = await createEnvironment(ws, preview.target, {
      manifest,
      python: opts.python,
      pythonPath: opts.pythonPath,
      systemSitePackages: opts.systemSitePackages,
      torchBackend: opts.torchBackend,
      commitMessage: opts.fromRepository ? `Set up from ${redactSecrets(opts.fromRepository.url)} on this machine` : 'Initial import from bundle',
      beforeCommit: async (env, ctl) => {
        await withTask(ctl.onProgress, 'copy bundle content', {}, () => copyBundleContent(bundle, env))
        // the clone's history: the first commit then records only what this machine wrote differently
        if (opts.fromRepository) await rename(opts.fromRepository.gitDir, join(env.cec, '.git'))
        packs = await installPinnedPacks(ws, env, ctl)
        await copyWorkflowsToUser(bundle, env)
      },
      // Models only once the Python packages are in: a failed sync must not cost a multi-GB download.
      afterSync: async (_env, ctl) => {
        downloads = await downloadModelNeeds(ws, selection.download, ctl)
      },
    }, { onProgress: opts.onProgress, signal: opts.signal })

    const names = (list: ModelNeed[]): string[] => list.map(n => n.filename)
    const partial: Omit<ImportResult, 'next_steps'> = {
      name: created.name,
      path: created.path,
      commit: created.commit,
      preview,
      python: { backend: created.backend, ...created.python_lock },
      nodes: { ...packs, development: preview.nodes.development },
      models: {
        ...downloads,
        strategy,
        local: names(needs.filter(n => n.present)),
        skipped: names(selection.skipped),
        unavailable: names(selection.unavailable),
      },
      workflows: bundle.workflows,
      ok: packs.failed.length === 0 && downloads.failed.length === 0,
    }
    return { ...partial, next_steps: nextSteps(partial) }
  }
}
