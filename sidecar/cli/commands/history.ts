/** @module History of an environment's `.cec`: commit, log, rollback. */
import type { Command } from 'commander'
import { withContext } from '../context'

export function registerHistoryCommands (program: Command): void {
  program
    .command('commit')
    .description('record the current state of the environment (.cec: pyproject, workflows) as a commit')
    .requiredOption('-m, --message <msg>', 'what changed')
    .option('--allow-issues', 'commit even when tracked workflows have missing models or packs')
    .action(withContext<{ message: string, allowIssues?: boolean }>(async (ctx, _args, opts) => {
      const { commitEnvironment } = await import('../../env')
      const ws = await ctx.workspace()
      const res = await commitEnvironment(ws, await ctx.env(), { message: opts.message, allowIssues: opts.allowIssues, onProgress: ctx.onProgress, signal: ctx.signal })
      ctx.print(res, `Committed ${res.short}: ${res.message} (${res.changes.length} file${res.changes.length === 1 ? '' : 's'})`)
    }))

  program
    .command('log')
    .description('list the commits of the environment, newest first (short ids work with rollback)')
    .option('-n, --limit <n>', 'show at most n commits', v => Number.parseInt(v, 10))
    .action(withContext<{ limit?: number }>(async (ctx, _args, opts) => {
      const { environmentLog } = await import('../../env')
      const env = await ctx.env()
      const entries = await environmentLog(env, { limit: opts.limit })
      ctx.print({ environment: env.name, commits: entries }, () =>
        entries.map(e => `${e.short}  ${e.date.slice(0, 16).replace('T', ' ')}  ${e.subject}`).join('\n') || 'No commits yet.')
    }))

  program
    .command('rollback <ref>')
    .description('restore the environment to a commit (from `log`) and re-sync ComfyUI and Python packages')
    .option('--force', 'discard uncommitted changes to tracked files')
    .action(withContext<{ force?: boolean }>(async (ctx, [ref], opts) => {
      const { rollbackEnvironment } = await import('../../env')
      const ws = await ctx.workspace()
      const env = await ctx.env()
      const res = await rollbackEnvironment(ws, env, ref, { force: opts.force, onProgress: ctx.onProgress, signal: ctx.signal })
      ctx.print(res, res.commit
        ? `Rolled back "${env.name}" to ${res.target.slice(0, 7)}; recorded as ${res.commit.slice(0, 7)}.${res.comfyuiChanged ? ' ComfyUI was switched to the manifest\'s version.' : ''}`
        : `"${env.name}" already matches ${res.target.slice(0, 7)}; packages re-synced.`)
    }))
}
