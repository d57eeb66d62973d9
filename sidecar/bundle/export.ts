/**
 * @module `exportEnvironment`: one reproducible .tar.gz per commit. The bundle carries the manifest,
 * the lock, the Python version, the tracked workflows and the development nodes' sources; never
 * models, venvs, registry/git node sources or machine-local settings (those are re-fetched on import).
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import { join, relative, resolve } from 'node:path'
import { ComfydockError } from '../errors'
import { isDirectory, pathExists } from '../fs'
import { openGit } from '../git'
import { readManifest } from '../manifest'
import type { OnProgress } from '../protocol'
import { note, startTask } from '../progress'
import { VERSION } from '../version'
import type { EnvPaths, Workspace } from '../workspace'
import { assertCommitted, checkExportable } from './export-checks'
import { requirementsLockPath } from '../python'
import { BUNDLE_FILES, BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, countManifest, type BundleManifest } from './format'
import { writeTarGz, type TarSource } from './tar-writer'

export interface ExportOptions {
  /** A file path, or an existing folder to put `<env>_export_<date>.tar.gz` in. Default: the current folder. */
  output?: string
  allowIssues?: boolean
  allowLargeDevNodes?: boolean
  onProgress?: OnProgress
  signal?: AbortSignal
}

export interface ExportSummary {
  environment: string
  commit: string
  workflows: number
  nodes: { total: number, registry: number, git: number, development: number }
  models: number
  models_without_source: string[]
  files: number
  warnings: string[]
}

export interface ExportResult {
  path: string
  size: number
  summary: ExportSummary
}

export function defaultBundleName (envName: string, date = new Date()): string {
  return `${envName}_export_${date.toISOString().slice(0, 10)}.tar.gz`
}

async function listWorkflowFiles (dir: string): Promise<string[]> {
  if (!(await isDirectory(dir))) return []
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries
    .filter(e => e.isFile() && e.name.endsWith('.json'))
    .map(e => relative(dir, join(e.parentPath, e.name)).split('\\').join('/'))
    .sort()
}

async function fileSource (path: string, file: string): Promise<TarSource> {
  return { path, file, size: (await stat(file)).size }
}

async function resolveOutput (envName: string, output?: string): Promise<string> {
  const target = resolve(output ?? '.')
  if (output === undefined || await isDirectory(target)) return join(target, defaultBundleName(envName))
  if (!(await isDirectory(resolve(target, '..')))) {
    throw new ComfydockError('FILE_NOT_FOUND', `cannot write ${target}: folder ${resolve(target, '..')} does not exist`, {
      hint: 'Create the folder first, or pass another path: `comfydock export ./my-env.tar.gz`.',
    })
  }
  return target
}

export async function exportEnvironment (ws: Workspace, env: EnvPaths, opts: ExportOptions = {}): Promise<ExportResult> {
  const head = await assertCommitted(env)
  const doc = await readManifest(env.pyproject)
  const checks = await checkExportable(env, doc, opts)
  for (const w of checks.warnings) note(opts.onProgress, 'warn', w)

  const [last] = await openGit(env.cec).log({ limit: 1 })
  // the commit's own time keeps the bytes identical for the same commit
  const mtime = new Date(last?.date ?? 0)
  const workflowFiles = await listWorkflowFiles(env.cecWorkflows)
  const totals = countManifest(doc)
  const c = doc.tool.comfydock
  const pythonVersion = (await pathExists(env.pythonVersionFile))
    ? (await readFile(env.pythonVersionFile, 'utf8')).trim()
    : (c.python_version ?? null)
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    format_version: BUNDLE_FORMAT_VERSION,
    timestamp: mtime.toISOString(),
    comfydock_version: VERSION,
    environment_name: env.name,
    workflows: workflowFiles,
    dev_nodes: checks.devNodes.map(d => d.name),
    python_version: pythonVersion,
    comfyui_version: c.comfyui_version ?? null,
    platform: process.platform,
    total_models: totals.models,
    total_nodes: totals.nodes,
    totals,
  }

  const sources: TarSource[] = []
  const manifestData = Buffer.from(JSON.stringify(manifest, null, 2) + '\n')
  sources.push({ path: BUNDLE_FILES.manifest, data: manifestData, size: manifestData.length })
  sources.push(await fileSource(BUNDLE_FILES.pyproject, env.pyproject))
  if (await pathExists(env.uvLock)) sources.push(await fileSource(BUNDLE_FILES.uvLock, env.uvLock))
  const requirementsLock = requirementsLockPath(env)
  if (await pathExists(requirementsLock)) sources.push(await fileSource(BUNDLE_FILES.requirementsLock, requirementsLock))
  if (pythonVersion) {
    const data = Buffer.from(pythonVersion + '\n')
    sources.push({ path: BUNDLE_FILES.pythonVersion, data, size: data.length })
  }
  for (const wf of workflowFiles) sources.push(await fileSource(`${BUNDLE_FILES.workflows}/${wf}`, join(env.cecWorkflows, wf)))
  for (const node of checks.devNodes) {
    for (const f of node.files) {
      sources.push({ path: `${BUNDLE_FILES.devNodes}/${node.name}/${f.rel}`, file: f.abs, size: f.size, executable: f.executable })
    }
  }

  const path = await resolveOutput(env.name, opts.output)
  const rawBytes = sources.reduce((n, s) => n + s.size + 1024, 0)
  const task = startTask(opts.onProgress, `export ${env.name}`, { total: rawBytes, unit: 'bytes' })
  let size: number
  try {
    size = await writeTarGz(path, sources, { mtime, task, signal: opts.signal })
  } catch (err) {
    task.end('failed', (err as Error).message)
    if (opts.signal?.aborted) throw new ComfydockError('CANCELLED', 'export was cancelled; no bundle was written', { cause: err })
    throw new ComfydockError('IO_ERROR', `cannot write bundle ${path}: ${(err as Error).message}`, { cause: err })
  }
  task.end('ok')
  return {
    path,
    size,
    summary: {
      environment: env.name,
      commit: head,
      workflows: workflowFiles.length,
      nodes: { total: totals.nodes, registry: totals.registry_nodes, git: totals.git_nodes, development: totals.dev_nodes },
      models: totals.models,
      models_without_source: checks.modelsWithoutSource,
      files: sources.length,
      warnings: checks.warnings,
    },
  }
}
