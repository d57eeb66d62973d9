/**
 * @module What must hold before an environment is exported: its .cec is committed and clean, its
 * workflows have no unresolved required models, and its development nodes are present and not
 * too large. Problems are gathered first so the user sees them all at once.
 */
import { collectModelNeeds } from '../env'
import { ComfydockError } from '../errors'
import { pathExists } from '../fs'
import { openGit } from '../git'
import type { NodeEntry, Pyproject } from '../manifest'
import { listWorkflows } from '../workflows'
import { packDir, type EnvPaths } from '../workspace'
import { listDevNodeFiles, type DevNodeFiles } from './dev-node-files'
import { localOnlySourceWarnings } from './portability'

export const DEV_NODE_WARN_BYTES = 50 * 1024 * 1024
export const DEV_NODE_MAX_BYTES = 200 * 1024 * 1024

export interface UnresolvedWorkflow {
  workflow: string
  models: string[]
}

export interface DevNodeContent extends DevNodeFiles {
  name: string
  dir: string
}

export interface ExportChecks {
  devNodes: DevNodeContent[]
  warnings: string[]
  /** Filenames of referenced models that have no download source. */
  modelsWithoutSource: string[]
}

function mb (bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(0)} MB`
}

/**
 * Refuses when .cec has uncommitted changes or no commit at all, or when tracked workflows in
 * ComfyUI's user folder differ from their committed copies, listing them.
 */
export async function assertCommitted (env: EnvPaths): Promise<string> {
  const git = openGit(env.cec)
  const head = await git.revParse('HEAD').catch(() => null)
  if (!head) {
    throw new ComfydockError('EXPORT_BLOCKED', `cannot export "${env.name}": it has no commit yet`, {
      hint: `Run \`comfydock -e ${env.name} commit -m "First version"\`.`,
    })
  }
  const dirty = await git.status()
  if (dirty.length > 0) {
    const files = dirty.slice(0, 10).map(e => e.path).join(', ')
    throw new ComfydockError('UNCOMMITTED_CHANGES', `cannot export "${env.name}" with uncommitted changes (${files}${dirty.length > 10 ? ', …' : ''})`, {
      hint: `Commit first: \`comfydock -e ${env.name} commit -m "Pre-export checkpoint"\`.`,
    })
  }
  const unsynced = (await listWorkflows(undefined, env)).filter(w => w.tracked && w.state !== 'synced')
  if (unsynced.length > 0) {
    throw new ComfydockError('UNCOMMITTED_CHANGES', `cannot export "${env.name}": workflows changed in ComfyUI since the last commit (${unsynced.map(w => `${w.name}: ${w.state}`).join(', ')})`, {
      hint: `Commit them: \`comfydock -e ${env.name} commit -m "Pre-export checkpoint"\`, or put the committed versions back with \`comfydock workflow restore <name>\`.`,
    })
  }
  return head
}

/** Workflows whose non-optional models are unresolved and have no download source. */
export function findUnresolvedWorkflows (doc: Pyproject): UnresolvedWorkflow[] {
  const out: UnresolvedWorkflow[] = []
  for (const [name, wf] of Object.entries(doc.tool.comfydock.workflows ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    const models = (wf.models ?? [])
      .filter(m => m.status === 'unresolved' && m.criticality !== 'optional' && !(m.sources?.length))
      .map(m => m.filename)
    if (models.length) out.push({ workflow: name, models })
  }
  return out
}

/**
 * Filenames of non-optional models (used by a workflow, or added for the environment itself) that
 * are known by hash but have no download source.
 */
export function findModelsWithoutSource (doc: Pyproject): string[] {
  const names = collectModelNeeds(doc).filter(n => n.hash && n.criticality !== 'optional' && n.sources.length === 0).map(n => n.filename)
  return [...new Set(names)].sort()
}

export interface CheckOptions {
  allowIssues?: boolean
  allowLargeDevNodes?: boolean
}

/** Runs every content check; throws EXPORT_BLOCKED / DEV_NODE_TOO_LARGE with the full list. */
export async function checkExportable (env: EnvPaths, doc: Pyproject, opts: CheckOptions): Promise<ExportChecks> {
  const warnings: string[] = []
  const unresolved = findUnresolvedWorkflows(doc)
  if (unresolved.length) {
    const lines = unresolved.map(u => `${u.workflow} (${u.models.join(', ')})`)
    if (!opts.allowIssues) {
      throw new ComfydockError('EXPORT_BLOCKED', `cannot export "${env.name}": workflows have unresolved models: ${lines.join('; ')}`, {
        hint: `Resolve them first: ${unresolved.map(u => `\`comfydock workflow resolve ${u.workflow}\``).join(', ')}; or export anyway with --allow-issues.`,
      })
    }
    for (const line of lines) warnings.push(`workflow ${line} has unresolved models; importers will see them as missing`)
  }
  const devNodes: DevNodeContent[] = []
  const missing: string[] = []
  const tooLarge: string[] = []
  const devEntries = Object.values(doc.tool.comfydock.nodes ?? {}).filter((n: NodeEntry) => n.source === 'development')
  for (const node of devEntries.sort((a, b) => a.name.localeCompare(b.name))) {
    const dir = packDir(env, node.name)
    if (!(await pathExists(dir))) { missing.push(node.name); continue }
    const files = await listDevNodeFiles(dir)
    if (files.bytes > DEV_NODE_MAX_BYTES && !opts.allowLargeDevNodes) tooLarge.push(`${node.name} is ${mb(files.bytes)}`)
    else if (files.bytes > DEV_NODE_WARN_BYTES) warnings.push(`development node ${node.name} is ${mb(files.bytes)}; review its .gitignore`)
    for (const s of files.secrets) warnings.push(`development node ${node.name} contains ${s}, which looks like a secret; it will be shared`)
    if (files.skippedLinks.length) warnings.push(`development node ${node.name}: symbolic links left out (${files.skippedLinks.join(', ')})`)
    devNodes.push({ name: node.name, dir, ...files })
  }
  if (missing.length) {
    throw new ComfydockError('EXPORT_BLOCKED', `cannot export "${env.name}": development node folders are missing: ${missing.map(m => `custom_nodes/${m}`).join(', ')}`, {
      hint: `Restore the folders, or stop tracking them: ${missing.map(m => `\`comfydock node remove ${m}\``).join(', ')}.`,
    })
  }
  if (tooLarge.length) {
    throw new ComfydockError('DEV_NODE_TOO_LARGE', `development nodes are over the ${mb(DEV_NODE_MAX_BYTES)} limit: ${tooLarge.join('; ')}`, {
      hint: 'Add large files (weights, outputs) to the node\'s .gitignore, or pass --allow-large-dev-nodes.',
    })
  }
  warnings.push(...localOnlySourceWarnings(doc))
  const modelsWithoutSource = findModelsWithoutSource(doc)
  if (modelsWithoutSource.length) {
    warnings.push(`${modelsWithoutSource.length} model(s) have no download source, so importers cannot get them: ${modelsWithoutSource.join(', ')} (record one with \`comfydock model find-source <hash>\`)`)
  }
  return { devNodes, warnings, modelsWithoutSource }
}
