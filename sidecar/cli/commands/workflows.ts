/** @module `workflow ...` commands: analyze any file; track, list, status, show, resolve and restore an environment's workflows. */
import type { Command } from 'commander'
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { ComfydockError, isComfydockError, toErrorPayload } from '../../errors'
import type { ModelResolution, ResolveOptions, ResolveWorkflowResult, WorkflowAnalysis, WorkflowResolution } from '../../workflows'
import { withContext, type CliContext } from '../context'
import { formatBytes, style } from '../render/style'

type AnalyzeOutcome = WorkflowAnalysis | { file: string, error: ReturnType<typeof toErrorPayload> }

async function analyzeFile (file: string): Promise<WorkflowAnalysis> {
  let bytes: Buffer
  try {
    bytes = await readFile(file)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new ComfydockError(code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'IO_ERROR',
      code === 'ENOENT' ? `${file}: no such file` : `${file}: cannot read (${code ?? String(err)})`, { cause: err })
  }
  const { analyzeWorkflow } = await import('../../workflows')
  return analyzeWorkflow(bytes, { file })
}

export function renderAnalysis (a: WorkflowAnalysis): string {
  const lines = [style.bold(`${a.file}`) + style.dim(` (${a.format})`)]
  const types = new Map<string, { core: boolean, pack: string | null }>()
  for (const n of a.nodes) if (!types.has(n.type)) types.set(n.type, n)
  const core = [...types].filter(([, n]) => n.core).map(([t]) => t).sort()
  const custom = [...types].filter(([, n]) => !n.core).sort(([x], [y]) => x.localeCompare(y))
  lines.push(`  core nodes (${core.length}): ${core.join(', ') || '-'}`)
  lines.push(`  custom nodes (${custom.length}):${custom.length ? '' : ' -'}`)
  for (const [t, n] of custom) lines.push(`    ${t}${n.pack ? style.dim(`  [${n.pack}]`) : style.dim('  [pack unknown]')}`)
  lines.push(`  models (${a.models.length}):${a.models.length ? '' : ' -'}`)
  for (const m of a.models) {
    const where = `#${m.node_id} ${m.node_type}${m.input ? `.${m.input}` : ''}`
    lines.push(`    ${m.folder ?? '?'}/${m.path}  ${style.dim(`${where}, ${m.criticality}${m.mode !== 'active' ? `, ${m.mode}` : ''}`)}`)
    if (m.declared_url) lines.push(style.dim(`      from ${m.declared_url}`))
  }
  return lines.join('\n')
}

/** "1 of 2 downloads failed, 1 of 1 pack installs failed": which part of --install did not happen. */
function installFailures (r: ResolveWorkflowResult): string {
  const failedModels = r.failed.filter(f => f.kind === 'model').length
  const failedPacks = r.failed.length - failedModels
  const part = (failed: number, done: number, what: string) => failed ? `${failed} of ${failed + done} ${what}${failed + done === 1 ? '' : 's'} failed` : ''
  return [part(failedModels, r.installed.models.length, 'download'), part(failedPacks, r.installed.packs.length, 'pack install')].filter(Boolean).join(', ')
}

const MODEL_MARK: Record<ModelResolution['status'], string> = { resolved: 'ok', ambiguous: 'ambiguous', unresolved: 'missing' }

export function renderResolution (r: WorkflowResolution): string {
  const lines = ['  resolution:']
  for (const n of r.nodes.filter(n => n.status !== 'core')) {
    const state = n.status === 'resolved' ? (n.installed ? 'installed' : 'not installed') : n.status
    lines.push(`    node ${n.type}: ${n.pack ?? n.candidates?.join(' | ') ?? '-'} ${style.dim(`(${state})`)}`)
  }
  for (const m of r.models) {
    const where = m.status === 'resolved' ? `${m.relative_path} ${style.dim(`(${m.match})`)}` : m.status === 'ambiguous'
      ? `${m.candidates?.length} candidates: ${m.candidates?.map(c => c.relative_path).join(', ')}`
      : m.download ? `download from ${m.download.url}` : 'no source known'
    const mark = m.replaces ? 'changed' : MODEL_MARK[m.status]
    lines.push(`    ${mark.padEnd(9)} ${m.folder ?? '?'}/${m.path} → ${where}${m.replaces ? style.dim(` other bytes than the committed model ${m.replaces}; commit to record this file, or put the committed one back`) : ''}`)
  }
  for (const i of r.issues) lines.push(style.yellow(`    ! ${i.message}`) + style.dim(` → ${i.fix}`))
  for (const n of r.notes) lines.push(style.dim(`    note: ${n}`))
  return lines.join('\n')
}

/** With a workspace and an environment, analyze also shows how each file resolves there; without, it stays silent. */
async function resolveInEnvironment (ctx: CliContext, analyses: WorkflowAnalysis[]): Promise<Map<WorkflowAnalysis, WorkflowResolution>> {
  const out = new Map<WorkflowAnalysis, WorkflowResolution>()
  let ws, env
  try {
    ws = await ctx.workspace()
    env = await ctx.env()
  } catch (err) {
    if (isComfydockError(err) && ['WORKSPACE_NOT_FOUND', 'ENV_NO_ACTIVE', 'ENV_NOT_FOUND'].includes(err.code) && !ctx.opts.env) return out
    throw err
  }
  const { resolveAnalysis } = await import('../../workflows')
  for (const a of analyses) {
    const name = basename(a.file).replace(/\.[^.]*$/, '')
    out.set(a, await resolveAnalysis(ws, env, name, a, { yes: true, onProgress: ctx.onProgress, signal: ctx.signal }))
  }
  return out
}

function choosers (ctx: CliContext): Pick<ResolveOptions, 'chooseModel' | 'choosePack' | 'yes'> {
  if (ctx.yes || !ctx.interactive) return { yes: ctx.yes }
  return {
    chooseModel: (m, candidates) => ctx.select(`${m.folder ?? '?'}/${m.path}: ${candidates.length} files match. Which one?`, [
      ...candidates.map(c => ({ name: `${c.relative_path}  (${formatBytes(c.size)}, ${c.hash})`, value: c })),
      { name: 'skip (leave unresolved)', value: undefined },
    ]),
    choosePack: (res) => ctx.select(`node type ${res.type} is provided by several packs. Which one?`, [
      ...res.candidates.map(c => ({ name: `${c.packId}${c.version ? `@${c.version}` : ''}  (${c.source}${c.installed ? ', installed' : ''})`, value: c })),
      { name: 'skip', value: undefined },
    ]),
  }
}

const STATE_STYLE: Record<string, (t: string) => string> = { new: style.green, modified: style.yellow, deleted: style.red, synced: style.dim, untracked: style.dim }

export function registerWorkflowCommands (program: Command): void {
  const wf = program.command('workflow').alias('wf').description('analyze workflow files; track and commit an environment\'s workflows')

  wf.command('analyze <files...>')
    .description('list the node types and model references of workflow files (UI/API JSON, PNG, WebP); needs no workspace')
    .action(withContext(async (ctx, args) => {
      const files = args[0] as string[]
      const results: AnalyzeOutcome[] = []
      for (const file of files) {
        try {
          results.push(await analyzeFile(file))
        } catch (err) {
          if (!isComfydockError(err)) throw err
          if (files.length === 1) throw err
          results.push({ file, error: err.toPayload() })
        }
      }
      const ok = results.filter((r): r is WorkflowAnalysis => !('error' in r))
      if (ok.length === 0) {
        const first = results[0] as { error: { message: string } }
        throw new ComfydockError('WORKFLOW_INVALID', `none of the ${files.length} files could be read (first: ${first.error.message})`, {
          hint: 'Pass ComfyUI workflow files: UI or API JSON, or a PNG/WebP saved by ComfyUI.',
        })
      }
      const resolved = await resolveInEnvironment(ctx, ok)
      const shown = results.map(r => 'error' in r || !resolved.has(r) ? r : { ...r, resolution: resolved.get(r) })
      ctx.print(files.length === 1 ? shown[0] : shown, () => results.map(r => 'error' in r
        ? style.red(`${r.error.message}`) + (r.error.hint ? style.dim(`\n  hint: ${r.error.hint}`) : '')
        : renderAnalysis(r) + (resolved.has(r) ? '\n' + renderResolution(resolved.get(r)!) : '')).join('\n\n'))
      // Scripts must notice a batch where some files could not be read.
      if (ok.length < results.length) process.exitCode = 1
    }))

  wf.command('list')
    .description('workflows of the environment: new, modified, deleted, synced (vs the last commit) or untracked')
    .action(withContext(async (ctx) => {
      const { listWorkflows } = await import('../../workflows')
      const env = await ctx.env()
      const list = await listWorkflows(await ctx.workspace(), env)
      ctx.print({ environment: env.name, workflows: list }, () => list.length
        ? list.map(w => `${STATE_STYLE[w.state](w.state.padEnd(9))} ${w.name}${w.location === 'browser' ? ' (lives in the browser; its last commit stands for it)' : ''}`).join('\n')
        : `No workflows in ${env.userWorkflows} yet. Save one in ComfyUI, then \`comfydock workflow track NAME\`.`)
    }))

  wf.command('track [names...]')
    .description('track workflows of the ComfyUI user folder (commit records them)')
    .option('--all', 'track every saved workflow')
    .action(withContext<{ all?: boolean }>(async (ctx, args, opts) => {
      const { trackWorkflows } = await import('../../workflows')
      const names = (args[0] ?? []) as string[]
      if (!opts.all && names.length === 0) throw new ComfydockError('USAGE', 'name a workflow or pass --all', { hint: 'Run `comfydock workflow list` to see the saved workflows.' })
      const added = await trackWorkflows(await ctx.lockedEnv('workflow track'), opts.all ? 'all' : names)
      ctx.print({ tracked: added }, added.length ? `Tracking ${added.join(', ')}. Record with \`comfydock commit -m "..."\`.` : 'Already tracked.')
    }))

  wf.command('untrack <names...>')
    .description('stop tracking workflows (the files in ComfyUI stay)')
    .action(withContext(async (ctx, args) => {
      const { untrackWorkflows } = await import('../../workflows')
      const removed = await untrackWorkflows(await ctx.lockedEnv('workflow untrack'), args[0] as string[])
      ctx.print({ untracked: removed }, `No longer tracking ${removed.join(', ')}.`)
    }))

  wf.command('status')
    .description('each workflow with its missing models and node packs, and the command that fixes it')
    .action(withContext(async (ctx) => {
      const { getWorkflowStatus } = await import('../../workflows')
      const env = await ctx.env()
      const s = await getWorkflowStatus(await ctx.workspace(), env, { onProgress: ctx.onProgress, signal: ctx.signal })
      ctx.print(s, () => {
        if (s.workflows.length === 0) return 'No workflows yet.'
        const lines: string[] = []
        for (const w of s.workflows) {
          const head = `${STATE_STYLE[w.state](w.state.padEnd(9))} ${w.name}`
          if (w.error) { lines.push(`${head}  ${style.red(w.error.message)}`); continue }
          lines.push(w.issues.length ? `${head}  ${style.yellow(`${w.issues.length} issue${w.issues.length > 1 ? 's' : ''}`)}` : head)
          for (const n of w.missing_nodes) lines.push(`    node  ${n.type}${n.pack ? ` (${n.pack}, not installed)` : ` (${n.status})`}`)
          for (const m of w.missing_models) lines.push(`    model ${m.folder ?? '?'}/${m.path} (${m.status}${m.download ? ', downloadable' : ''}, ${m.criticality})`)
          if (w.fix) lines.push(style.dim(`    → ${w.fix}`))
        }
        return lines.join('\n')
      })
    }))

  wf.command('show <name>')
    .description('a workflow\'s nodes, models and how each resolves in the environment')
    .action(withContext(async (ctx, [name]) => {
      const { resolveWorkflow } = await import('../../workflows')
      const ws = await ctx.workspace()
      const env = await ctx.env()
      const r = await resolveWorkflow(ws, env, name, { yes: true, onProgress: ctx.onProgress, signal: ctx.signal, dryRun: true })
      ctx.print(r, () => `${style.bold(name)}${r.tracked ? '' : style.dim(' (not tracked)')}\n${renderResolution(r)}`)
    }))

  wf.command('resolve <name>')
    .description('resolve a workflow\'s models and packs (asks on a TTY when several match); --install fetches what is missing')
    .option('--install', 'install missing packs and download missing models that have a source')
    .action(withContext<{ install?: boolean }>(async (ctx, [name], opts) => {
      const { resolveWorkflow } = await import('../../workflows')
      const ws = await ctx.workspace()
      const env = await ctx.lockedEnv('workflow resolve')
      const r = await resolveWorkflow(ws, env, name, { ...choosers(ctx), install: opts.install, onProgress: ctx.onProgress, signal: ctx.signal })
      ctx.print(r, () => {
        const lines = [`${style.bold(name)}`, renderResolution(r)]
        if (r.installed.packs.length) lines.push(`  installed packs: ${r.installed.packs.join(', ')}`)
        if (r.installed.models.length) lines.push(`  downloaded: ${r.installed.models.join(', ')}`)
        for (const f of r.failed) lines.push(style.red(`  failed ${f.subject}: ${f.message}`))
        if (r.failed.length) lines.push(style.red(`  ${installFailures(r)}; run \`comfydock workflow resolve ${name} --install\` again once the cause is fixed`))
        if (!r.tracked) lines.push(style.dim(`  (not tracked: nothing written; \`comfydock workflow track ${name}\` to keep it)`))
        else if (r.issues.length === 0 && r.failed.length === 0) lines.push('  Resolved. Record with `comfydock commit -m "..."`.')
        return lines.join('\n')
      })
      // what was asked (--install) did not all happen
      if (r.failed.length) process.exitCode = 1
    }))

  wf.command('restore <name>')
    .description('put a committed version of a workflow back into ComfyUI (asks before replacing uncommitted changes)')
    .option('--ref <ref>', 'commit to take it from (see `comfydock log`); default: the last commit')
    .action(withContext<{ ref?: string }>(async (ctx, [name], opts) => {
      const { restoreWorkflow } = await import('../../workflows')
      const env = await ctx.lockedEnv('workflow restore')
      let r
      try {
        r = await restoreWorkflow(undefined, env, name, { ref: opts.ref })
      } catch (err) {
        if (!isComfydockError(err) || err.code !== 'UNCOMMITTED_CHANGES') throw err
        if (!(await ctx.confirm(`${err.message}. Discard them and restore?`))) throw new ComfydockError('CANCELLED', 'restore cancelled; nothing changed')
        r = await restoreWorkflow(undefined, env, name, { ref: opts.ref, overwrite: true })
      }
      const { workflow: _w, ...summary } = r
      ctx.print(summary, r.written ? `Restored ${name} from ${r.ref} to ${r.path}. Reload it in ComfyUI.` : `${name} already matches ${r.ref}.`)
    }))

  const model = wf.command('model').description('a workflow\'s models')
  model.command('importance <workflow> <model> <level>')
    .description('how much the workflow needs a model: required, flexible (a substitute works) or optional')
    .action(withContext(async (ctx, [workflow, modelName, level]) => {
      const { setModelImportance } = await import('../../workflows')
      const r = await setModelImportance(await ctx.lockedEnv('workflow model importance'), workflow, modelName, level)
      ctx.print(r, `${r.model} is ${r.criticality} for ${r.workflow}.`)
    }))
}
