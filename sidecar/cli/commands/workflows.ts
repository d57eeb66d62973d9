/** @module `workflow ...` commands: analyze any file; track, list, status, show, resolve and restore an environment's workflows. */
import type { Command } from 'commander'
import { readFile } from 'node:fs/promises'
import { ComfydockError, isComfydockError, toErrorPayload } from '../../errors'
import { analyzeWorkflow, type WorkflowAnalysis } from '../../workflows'
import { withContext } from '../context'
import { style } from '../render/style'

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
      ctx.print(files.length === 1 ? results[0] : results, () => results.map(r => 'error' in r
        ? style.red(`${r.error.message}`) + (r.error.hint ? style.dim(`\n  hint: ${r.error.hint}`) : '')
        : renderAnalysis(r)).join('\n\n'))
    }))
}
