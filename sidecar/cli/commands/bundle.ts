/** @module `export`, `import` and `repair`: sharing an environment as one file, and bringing one back to its manifest. */
import { Option, type Command } from 'commander'
import type { ExportResult, ImportPreview, ImportResult, SnapshotExportResult, SnapshotImportResult, SnapshotPreview } from '../../bundle'
import { ComfydockError } from '../../errors'
import type { ModelStrategy, RepairPlan, RepairResult } from '../../env'
import { neededFor } from '../../env/needed-for'
import type { CliContext } from '../context'
import { withContext } from '../context'
import { addPythonOptions, checkPythonOptions } from './env'
import { formatBytes } from '../render/style'

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`
const list = (items: string[], max = 5): string => items.slice(0, max).join(', ') + (items.length > max ? `, +${items.length - max} more` : '')
const modelsOption = (): Option => new Option('--models <strategy>', 'which missing models to download').choices(['all', 'required', 'skip'])

function exportText (res: ExportResult): string {
  const s = res.summary
  const lines = [
    `Export complete: ${res.path} (${formatBytes(res.size)})`,
    '',
    'Summary:',
    `  • ${plural(s.workflows, 'workflow')}`,
    `  • ${plural(s.nodes.total, 'custom node')} (${s.nodes.development} development, ${s.nodes.registry + s.nodes.git} registry/git)`,
    `  • ${plural(s.models, 'model')} referenced`,
  ]
  if (s.models_without_source.length) lines.push(`  • ${s.models_without_source.length} without a download source: ${list(s.models_without_source)}`)
  lines.push('', `Share this file; anyone can run \`comfydock import ${res.path}\`.`)
  return lines.join('\n')
}

function snapshotExportText (res: SnapshotExportResult): string {
  const s = res.snapshot
  return [
    `ComfyUI-Manager snapshot written: ${res.path}`,
    `  ComfyUI ${s.comfyui ?? '(no commit)'}, ${plural(Object.keys(s.cnr_custom_nodes).length, 'registry pack')}, ${plural(Object.keys(s.git_custom_nodes).length, 'git pack')}, ${s.pips ? plural(Object.keys(s.pips).length, 'pip pin') : 'no pips'}`,
    '',
    'Anyone can restore it with ComfyUI-Manager (`cm-cli restore-snapshot <file> --pip-non-url`; without that flag the pips',
    'are not installed), comfy-cli, or `comfydock import <file>`.',
    ...(Object.keys(s.git_custom_nodes).length
      ? ['cm-cli 4.3 clones a git pack it does not have at its newest commit: run restore-snapshot a second time, from ComfyUI\'s',
          'custom_nodes folder, to check out the commits the snapshot records.']
      : []),
  ].join('\n')
}

function previewText (p: ImportPreview): string {
  const m = p.models
  const when = p.source.exported_at ? ` (exported ${p.source.exported_at.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC')})` : ''
  return [
    'Import summary:',
    '',
    `Source: ${p.source.environment}${when}, comfydock ${p.source.comfydock_version}, ${p.source.platform}`,
    `ComfyUI: ${p.comfyui_version ?? 'newest release'}`,
    `Python: ${p.python_version ?? 'default'}`,
    '',
    'Contents:',
    `  • ${plural(p.workflows.length, 'workflow')}`,
    `  • ${plural(p.nodes.registry.length + p.nodes.git.length + p.nodes.development.length, 'custom node')} (${p.nodes.development.length} dev, ${p.nodes.registry.length} registry, ${p.nodes.git.length} git)`,
    `  • ${plural(m.unique, 'unique model')} (${formatBytes(m.bytes)}): ${m.required.count} required, ${m.flexible.count} flexible, ${m.optional.count} optional`,
    `  • ${m.local.count} found locally, ${m.missing.count} missing (${formatBytes(m.missing.bytes)})`,
    '',
    `Target environment: ${p.target}`,
  ].join('\n')
}

function failures (items: Array<{ id?: string, filename?: string, error: { message: string } }>): string[] {
  return items.map(f => `    ✗ ${f.id ?? f.filename}: ${f.error.message.split('\n')[0]}`)
}

function importText (r: ImportResult): string {
  const total = r.preview.nodes.registry.length + r.preview.nodes.git.length
  const lines = [
    `Import ${r.ok ? 'complete' : 'finished with problems'}: ${r.name}${r.preview.requested_name ? ` (as "${r.name}": "${r.preview.requested_name}" already exists)` : ''}`,
    '',
    `Workflows: ${r.workflows.length} imported`,
    `Python (${r.python.backend}): ${r.python.lock === 'kept' ? 'installed exactly as the bundle\'s lock pins' : r.python.lock === 'converted' ? 'the bundle\'s pip lock turned into uv.lock, same versions' : `resolved afresh${r.python.note ? ` (${r.python.note})` : ''}`}`,
    `Custom nodes: ${r.nodes.installed.length}/${total} registry/git installed, ${r.nodes.development.length} development (bundled)`,
    ...failures(r.nodes.failed),
    `Models (${r.models.strategy}): ${r.models.local.length} found locally, ${r.models.downloaded.length} downloaded, ${r.models.failed.length} failed, ${r.models.skipped.length} skipped`,
    ...failures(r.models.failed),
  ]
  if (r.models.unavailable.length) lines.push(`    ⚠ no source: ${list(r.models.unavailable)}`)
  lines.push('', 'Next steps:', ...r.next_steps.map(s => `  ${s}`))
  return lines.join('\n')
}

function snapshotPreviewText (p: SnapshotPreview): string {
  return [
    `${p.format}: ${p.file}`,
    `ComfyUI: ${p.comfyui ?? 'newest release'}`,
    `Packs: ${p.packs.length}${p.packs.length ? ` (${list(p.packs, 8)})` : ''}`,
    `Pip packages pinned: ${p.pips.length}${p.pips.length ? ` (${list(p.pips, 8)})` : ''}`,
    ...p.not_installed.map(n => `  not installed: ${n.item} (${n.reason})`),
    ...p.notes.map(n => `  note: ${n}`),
    `Target environment: ${p.target}`,
  ].join('\n')
}

function snapshotText (r: SnapshotImportResult): string {
  return [
    `Import ${r.ok ? 'complete' : 'finished with problems'}: ${r.name}`,
    `Custom nodes: ${r.nodes.installed.length}/${r.preview.packs.length} installed`,
    ...failures(r.nodes.failed),
    r.pips.error ? `Pip packages: none pinned (${r.pips.error.replace(/:\n/, ': ').replace(/\n/g, '; ')})` : `Pip packages: ${r.pips.pinned.length} pinned`,
    ...(r.preview.not_installed.length ? [`Not installed: ${r.preview.not_installed.length} (listed above)`] : []),
    '', 'Next steps:', ...r.next_steps.map(s => `  ${s}`),
  ].join('\n')
}

function planText (p: RepairPlan): string {
  const lines = [`Repair plan for ${p.environment}:`]
  if (p.python.pending.length) lines.push(`  Python: sync ${plural(p.python.pending.length, 'package')} (${list(p.python.pending)})`)
  else if (p.python.relock) lines.push('  Python: resolve the requirements and write the lock (requirements.lock.txt)')
  if (p.python.extra.length) lines.push(`  Python: remove ${plural(p.python.extra.length, 'package')} the lock does not have (${list(p.python.extra)})`)
  if (p.nodes.missing.length) lines.push(`  Packs: install ${list(p.nodes.missing)}`)
  for (const m of p.nodes.mismatched) lines.push(`  Packs: ${m.id} is at ${m.actual.slice(0, 12)}, reinstall ${m.expected.slice(0, 12)}`)
  if (p.nodes.devMissing.length) lines.push(`  ⚠ development nodes missing (copy them back by hand): ${list(p.nodes.devMissing)}`)
  if (p.workflows.restore.length) lines.push(`  Workflows: restore ${list(p.workflows.restore)}`)
  for (const m of p.models.download) lines.push(`  Models: download ${m.filename} (${m.criticality}, ${neededFor(m, names => list(names, 2))})`)
  if (p.models.unavailable.length) lines.push(`  ⚠ models without a source: ${list(p.models.unavailable.map(m => m.filename))}`)
  if (p.models.skipped.length) lines.push(`  Models skipped by --models: ${list(p.models.skipped.map(m => m.filename))}`)
  if (p.remove.nodes.length) lines.push(`  DELETE packs not in the manifest: ${p.remove.nodes.join(', ')}`)
  if (p.remove.workflows.length) lines.push(`  DELETE uncommitted workflows: ${p.remove.workflows.join(', ')}`)
  if (!p.remove.nodes.length && p.nodes.extra.length) lines.push(`  kept (not in the manifest): packs ${list(p.nodes.extra)}; --remove-extras deletes them`)
  if (!p.remove.workflows.length && p.workflows.untracked.length) lines.push(`  kept (not committed): workflows ${list(p.workflows.untracked)}; --remove-extras deletes them`)
  if (p.upToDate) lines.push('  Nothing to repair.')
  return lines.join('\n')
}

function repairText (r: RepairResult): string {
  const lines = [`Repair ${r.ok ? 'complete' : 'finished with problems'}: ${r.plan.environment}`]
  if (r.nodes.installed.length || r.nodes.failed.length) lines.push(`  Packs: ${r.nodes.installed.length} installed`, ...failures(r.nodes.failed))
  if (r.python.synced) lines.push('  Python: synced')
  if (r.python.error) lines.push(`  ✗ Python sync: ${r.python.error.message.split('\n')[0]}`)
  if (r.workflows.restored.length) lines.push(`  Workflows restored: ${list(r.workflows.restored)}`)
  if (r.models.downloaded.length || r.models.failed.length) lines.push(`  Models: ${r.models.downloaded.length} downloaded`, ...failures(r.models.failed))
  if (r.removed.nodes.length || r.removed.workflows.length) lines.push(`  Deleted: ${[...r.removed.nodes, ...r.removed.workflows.map(w => `workflow ${w}`)].join(', ')}`)
  return lines.join('\n')
}

async function pickModels (ctx: CliContext, given: ModelStrategy | undefined, preview: ImportPreview): Promise<ModelStrategy | undefined> {
  if (given || preview.models.missing.count === 0) return given
  const m = preview.models
  return ctx.select<ModelStrategy>('Which missing models should be downloaded?', [
    { name: `required only (${m.required.count} required) - recommended`, value: 'required' },
    { name: `all (${m.missing.count}, ${formatBytes(m.missing.bytes)})`, value: 'all' },
    { name: 'skip (I will provide models myself)', value: 'skip' },
  ])
}

export function registerBundleCommands (program: Command): void {
  program
    .command('export [path]')
    .description('export the environment to one .tar.gz (default ./<env>_export_<date>.tar.gz); the same commit gives the same bytes')
    .option('--allow-issues', 'export even when workflows have unresolved models')
    .option('--allow-large-dev-nodes', 'export development nodes over the 200 MB limit')
    .addOption(new Option('--format <format>', 'bundle (.tar.gz, everything) or comfyui-manager-snapshot (.json/.yaml that ComfyUI-Manager, comfy-cli and others read)').choices(['bundle', 'comfyui-manager-snapshot']).default('bundle'))
    .action(withContext<{ allowIssues?: boolean, allowLargeDevNodes?: boolean, format: string }>(async (ctx, [path], opts) => {
      const { exportEnvironment, exportManagerSnapshot } = await import('../../bundle')
      if (opts.format === 'comfyui-manager-snapshot') {
        const res = await exportManagerSnapshot(await ctx.workspace(), await ctx.env(), { output: path, onProgress: ctx.onProgress })
        ctx.print(res, () => snapshotExportText(res))
        return
      }
      const res = await exportEnvironment(await ctx.workspace(), await ctx.env(), {
        output: path, allowIssues: opts.allowIssues, allowLargeDevNodes: opts.allowLargeDevNodes, onProgress: ctx.onProgress, signal: ctx.signal,
      })
      ctx.print(res, () => exportText(res))
    }))

  addPythonOptions(program
    .command('import <source>')
    .description('create an environment from a bundle (.tar.gz, also the original tool\'s), a ComfyUI-Manager snapshot (.json/.yaml) or a ComfyUI Desktop 2.0 snapshot export (.json): a file, or its http(s) URL; a git URL is cloned (as `clone`)')
    .option('--name <name>', 'environment name (default: the bundle\'s; NAME-1 when taken)')
    .addOption(modelsOption()))
    .action(withContext<{ name?: string, models?: ModelStrategy, python?: string, pythonPath?: string, systemSitePackages?: boolean, torchBackend?: string }>(async (ctx, [source], opts) => {
      checkPythonOptions(opts)
      const { classifyImportSource, importBundle, importSnapshot, isSnapshotFile, withDownloadedSource } = await import('../../bundle')
      const ws = await ctx.workspace()
      const src = await classifyImportSource(source)
      if (src.kind === 'git') {
        const { cloneEnvironment } = await import('../../remote')
        const { cloneText } = await import('./remote')
        const res = await cloneEnvironment(ws, src.url, opts.name, {
          models: opts.models ?? 'all', python: opts.python, pythonPath: opts.pythonPath, systemSitePackages: opts.systemSitePackages, torchBackend: opts.torchBackend, onProgress: ctx.onProgress, signal: ctx.signal,
        })
        ctx.print(res, () => cloneText(res))
        if (!res.ok) process.exitCode = 1
        return
      }
      const fromFile = async (file: string): Promise<void> => {
        if (isSnapshotFile(file)) {
          const res = await importSnapshot(ws, file, {
            name: opts.name,
            confirm: async p => { ctx.info(snapshotPreviewText(p)); return ctx.confirm('Create this environment?', { default: true }) },
            onProgress: ctx.onProgress, signal: ctx.signal,
          })
          ctx.print(res, () => snapshotText(res))
          // The environment exists, but scripts must notice what could not be installed or downloaded.
          if (!res.ok) process.exitCode = 1
          return
        }
        const res = await importBundle(ws, file, {
          name: opts.name,
          models: opts.models,
          python: opts.python,
          pythonPath: opts.pythonPath,
          systemSitePackages: opts.systemSitePackages,
          torchBackend: opts.torchBackend,
          confirm: async p => { ctx.info(previewText(p)); return ctx.confirm('Continue with the import?', { default: true }) },
          chooseModels: p => pickModels(ctx, opts.models, p),
          onProgress: ctx.onProgress, signal: ctx.signal,
        })
        ctx.print(res, () => importText(res))
        // The environment exists, but scripts must notice what could not be installed or downloaded.
        if (!res.ok) process.exitCode = 1
      }
      if (src.kind === 'download') await withDownloadedSource(ws, src, fromFile, { onProgress: ctx.onProgress, signal: ctx.signal })
      else await fromFile(src.path)
    }))

  program
    .command('repair')
    .description('bring the environment to its manifest: Python sync, missing packs, committed workflows, missing models')
    .addOption(modelsOption().default('all'))
    .option('--remove-extras', 'also delete packs not in the manifest and workflows that are not committed')
    .option('--dry-run', 'show the plan and change nothing')
    .action(withContext<{ models: ModelStrategy, removeExtras?: boolean, dryRun?: boolean }>(async (ctx, _args, opts) => {
      const { applyRepair, planRepair } = await import('../../env')
      const ws = await ctx.workspace()
      const env = opts.dryRun ? await ctx.env() : await ctx.lockedEnv('repair')
      const ropts = { models: opts.models, removeExtras: opts.removeExtras, onProgress: ctx.onProgress, signal: ctx.signal }
      const plan = await planRepair(ws, env, ropts)
      if (plan.upToDate || opts.dryRun) {
        ctx.print({ plan, applied: false }, () => planText(plan))
        return
      }
      ctx.info(planText(plan))
      const question = plan.remove.nodes.length || plan.remove.workflows.length ? 'Apply these changes, including the deletions?' : 'Apply these changes?'
      if (!(await ctx.confirm(question, { default: true }))) throw new ComfydockError('CANCELLED', 'repair cancelled; nothing was changed')
      const res = await applyRepair(ws, env, plan, ropts)
      ctx.print({ ...res, applied: true }, () => repairText(res))
      // The environment exists, but scripts must notice what could not be installed or downloaded.
      if (!res.ok) process.exitCode = 1
    }))
}
