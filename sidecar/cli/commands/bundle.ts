/** @module `export`, `import` and `repair`: sharing an environment as one file, and bringing one back to its manifest. */
import type { Command } from 'commander'
import { exportEnvironment, type ExportResult } from '../../bundle'
import { withContext } from '../context'
import { formatBytes } from '../render/style'

function exportText (res: ExportResult): string {
  const s = res.summary
  const lines = [
    `Export complete: ${res.path} (${formatBytes(res.size)})`,
    '',
    'Summary:',
    `  • ${s.workflows} workflow${s.workflows === 1 ? '' : 's'}`,
    `  • ${s.nodes.total} custom node${s.nodes.total === 1 ? '' : 's'} (${s.nodes.development} development, ${s.nodes.registry + s.nodes.git} registry/git)`,
    `  • ${s.models} model${s.models === 1 ? '' : 's'} referenced`,
  ]
  if (s.models_without_source.length) lines.push(`  • ${s.models_without_source.length} without a download source: ${s.models_without_source.join(', ')}`)
  lines.push('', `Share this file; anyone can run \`comfydock import ${res.path}\`.`)
  return lines.join('\n')
}

export function registerBundleCommands (program: Command): void {
  program
    .command('export [path]')
    .description('export the environment to one .tar.gz (default ./<env>_export_<date>.tar.gz); the same commit gives the same bytes')
    .option('--allow-issues', 'export even when workflows have unresolved models')
    .option('--allow-large-dev-nodes', 'export development nodes over the 200 MB limit')
    .action(withContext<{ allowIssues?: boolean, allowLargeDevNodes?: boolean }>(async (ctx, [path], opts) => {
      const ws = await ctx.workspace()
      const env = await ctx.env()
      const res = await exportEnvironment(ws, env, {
        output: path,
        allowIssues: opts.allowIssues,
        allowLargeDevNodes: opts.allowLargeDevNodes,
        onProgress: ctx.onProgress,
      })
      ctx.print(res, () => exportText(res))
    }))
}
