/** @module `init` and `config`. */
import type { Command } from 'commander'
import { resolve } from 'node:path'
import { CONFIG_DESCRIPTIONS, CONFIG_KEYS, Workspace, assertConfigKey, isSecretKey, maskSecret, type ConfigKey } from '../../workspace'
import { withContext } from '../context'

export function registerWorkspaceCommands (program: Command): void {
  program
    .command('init [path]')
    .description('create a workspace (default ~/comfydock or $COMFYDOCK_HOME); safe to run again')
    .option('--models-dir <dir>', 'use an existing models folder instead of <workspace>/models')
    .action(withContext<{ modelsDir?: string }>(async (ctx, [path], opts) => {
      const root = path ?? ctx.opts.workspace
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
    .description(`show or change workspace settings (${CONFIG_KEYS.join(', ')}); an empty value resets a key`)
    .option('--show', 'list every setting (tokens masked)')
    .action(withContext<{ show?: boolean }>(async (ctx, [key, value], opts) => {
      const ws = await ctx.workspace()
      if (key !== undefined && value !== undefined) {
        assertConfigKey(key)
        await ws.setConfig(key, value)
        const shown = isSecretKey(key) ? maskSecret(value) : value
        ctx.print({ key, value: isSecretKey(key) ? shown : value, set: true }, value ? `${key} = ${shown}` : `${key} reset`)
        return
      }
      if (key !== undefined && !opts.show) {
        assertConfigKey(key)
        const v = await ws.getConfig(key)
        const shown = isSecretKey(key) ? maskSecret(v) : v
        ctx.print({ key, value: shown }, shown)
        return
      }
      const entries: Array<{ key: ConfigKey, value: string, description: string }> = []
      for (const k of CONFIG_KEYS) {
        const v = await ws.getConfig(k)
        entries.push({ key: k, value: isSecretKey(k) ? maskSecret(v) : v, description: CONFIG_DESCRIPTIONS[k] })
      }
      ctx.print({ workspace: ws.root, config: Object.fromEntries(entries.map(e => [e.key, e.value])) }, () =>
        [`workspace: ${ws.root}`, ...entries.map(e => `${e.key.padEnd(18)} ${e.value || '(not set)'}`)].join('\n'))
    }))
}
