/** @module `init` and `config`. */
import type { Command } from 'commander'
import { resolve } from 'node:path'
import type { SettingSpec } from '../../workspace'
import { withContext } from '../context'

export function registerWorkspaceCommands (program: Command): void {
  program
    .command('init [path]')
    .description('create a workspace (default ~/comfydock or $COMFYDOCK_HOME); safe to run again')
    .option('--models-dir <dir>', 'use an existing models folder instead of <workspace>/models')
    .action(withContext<{ modelsDir?: string }>(async (ctx, [path], opts) => {
      const root = path ?? ctx.opts.workspace
      const { Workspace } = await import('../../workspace')
      const { workspace, created } = await Workspace.init(root, { modelsDir: opts.modelsDir ? resolve(opts.modelsDir) : undefined })
      const result = { workspace: workspace.root, created, models_dir: workspace.modelsDir }
      ctx.print(result, () => [
        `${created ? 'Created' : 'Workspace already set up at'} ${workspace.root}`,
        `  models: ${workspace.modelsDir}`,
        '',
        'Next: `comfydock create <name>` to make an environment.',
      ].join('\n'))
    }))

  program
    .command('config [key] [value]')
    .description('show or change workspace settings (`config --show` lists them); an empty value resets a key')
    .option('--show', 'list every setting (credentials masked)')
    .action(withContext<{ show?: boolean }>(async (ctx, [key, value], opts) => {
      const { WORKSPACE_SETTINGS, findSetting, maskSecret } = await import('../../workspace')
      const { MODEL_SETTINGS } = await import('../../models')
      const { PYTHON_SETTINGS } = await import('../../python')
      const catalog = [...WORKSPACE_SETTINGS, ...MODEL_SETTINGS, ...PYTHON_SETTINGS]
      const ws = await ctx.workspace()
      const shown = (spec: SettingSpec, v: string): string => spec.secret ? maskSecret(v) : v
      if (key !== undefined && value !== undefined) {
        const spec = findSetting(key, catalog)
        await ws.setConfig(key, value, catalog)
        ctx.print({ key, value: shown(spec, value), set: true }, value ? `${key} = ${shown(spec, value)}` : `${key} reset`)
        return
      }
      if (key !== undefined && !opts.show) {
        const spec = findSetting(key, catalog)
        const v = shown(spec, await ws.setting(spec))
        ctx.print({ key, value: v }, v)
        return
      }
      const entries: Array<{ key: string, value: string, description: string }> = []
      for (const spec of catalog) entries.push({ key: spec.key, value: shown(spec, await ws.setting(spec)), description: spec.description })
      ctx.print({ workspace: ws.root, config: Object.fromEntries(entries.map(e => [e.key, e.value])) }, () =>
        [`workspace: ${ws.root}`, ...entries.map(e => `${e.key.padEnd(20)} ${e.value || '(not set)'}`)].join('\n'))
    }))
}
