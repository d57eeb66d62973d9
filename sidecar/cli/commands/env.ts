/**
 * @module Environment commands: create, list, use, delete, run, status. Each calls one core function,
 * imported when the command runs so startup loads only what that command needs.
 */
import type { Command } from 'commander'
import { ComfydockError } from '../../errors'
import { pathExists } from '../../fs'
import { collectValues, withContext } from '../context'
import { style } from '../render/style'

interface CreateFlags {
  comfyui?: string
  python?: string
  pythonPath?: string
  systemSitePackages?: boolean
  torchBackend?: string
}

/** The Python options `create` and `import` share. */
export function addPythonOptions (cmd: Command): Command {
  return cmd
    .option('--python <version>', 'Python version to look for on PATH, e.g. 3.11')
    .option('--python-path <interpreter>', 'use this Python interpreter for the venv')
    .option('--system-site-packages', "let the venv see the interpreter's own packages (e.g. a system torch)")
    .option('--torch-backend <backend>', 'auto | cpu | cuXXX | rocmX | mps (kept on this machine only)', 'auto')
}

export function checkPythonOptions (opts: { python?: string, pythonPath?: string }): void {
  if (opts.python && opts.pythonPath) {
    throw new ComfydockError('USAGE', '--python and --python-path cannot be used together', { hint: 'Pass only one of them.' })
  }
}

export function registerEnvCommands (program: Command): void {
  addPythonOptions(program
    .command('create <name>')
    .description('create an environment: ComfyUI at a version, a Python venv, a git-tracked .cec/pyproject.toml')
    .option('--comfyui <ref>', 'ComfyUI tag, branch or commit (default: newest release tag)'))
    .action(withContext<CreateFlags>(async (ctx, [name], opts) => {
      checkPythonOptions(opts)
      const { createEnvironment } = await import('../../env')
      const ws = await ctx.workspace()
      // Ctrl-C / SIGTERM cancel the create (ctx.signal), which then removes the half-made environment.
      const res = await createEnvironment(ws, name, {
        comfyui: opts.comfyui,
        python: opts.python,
        pythonPath: opts.pythonPath,
        systemSitePackages: opts.systemSitePackages,
        torchBackend: opts.torchBackend,
      }, { onProgress: ctx.onProgress, signal: ctx.signal })
      ctx.print(res, () => [
        `Created environment "${res.name}" at ${res.path}`,
        `  ComfyUI ${res.comfyui.version} (${res.comfyui.commit.slice(0, 12)})${res.cloned ? '' : ' from cache'}`,
        `  Python ${res.python.version} (${res.python.path}), installer: ${res.backend}`,
        res.active ? `  "${res.name}" is now the active environment.` : `  Switch to it with \`comfydock use ${res.name}\`.`,
        '',
        `Next: \`comfydock${res.active ? '' : ` -e ${res.name}`} run\` to start ComfyUI.`,
      ].join('\n'))
    }))

  program
    .command('list')
    .description('list environments (* marks the active one)')
    .action(withContext(async (ctx) => {
      const { listEnvironments } = await import('../../env')
      const envs = await listEnvironments(await ctx.workspace())
      ctx.print({ environments: envs }, () => {
        if (!envs.length) return 'No environments yet. Create one with `comfydock create <name>`.'
        return envs.map(e => {
          const mark = e.active ? style.green('*') : ' '
          const extra = !e.complete ? style.yellow(' (incomplete: delete and create again)') : e.problem ? style.red(` (${e.problem.split('\n')[0]})`) : ''
          return `${mark} ${e.name.padEnd(20)} ComfyUI ${e.comfyui_version ?? '?'}  Python ${e.python_version ?? '?'}${extra}`
        }).join('\n')
      })
    }))

  program
    .command('use <name>')
    .description('make an environment the active one')
    .action(withContext(async (ctx, [name]) => {
      const { useEnvironment } = await import('../../env')
      const res = await useEnvironment(await ctx.workspace(), name)
      ctx.print({ active: res.name, previous: res.previous }, `Active environment: ${res.name}`)
    }))

  program
    .command('delete <name>')
    .description('delete an environment folder (asks first; --yes to skip)')
    .action(withContext(async (ctx, [name]) => {
      const ws = await ctx.workspace()
      const env = ws.env(name)
      if (!(await pathExists(env.root))) await ws.requireEnv(name)
      if (!(await ctx.confirm(`Delete environment "${name}" (${env.root}) with its ComfyUI, venv and history?`))) {
        throw new ComfydockError('CANCELLED', `kept environment "${name}"`)
      }
      const { deleteEnvironment } = await import('../../env')
      const res = await deleteEnvironment(ws, name)
      ctx.print({ deleted: res.name, path: res.path, active: res.active }, `Deleted environment "${res.name}"`)
    }))

  program
    .command('run')
    .argument('[comfyui-args...]', 'arguments for ComfyUI; put them after `--`, e.g. `run -- --cpu --port 8190`')
    .description("start ComfyUI with the environment's Python from its ComfyUI/ folder; Ctrl-C stops it")
    .option('--panel-host <name>', 'let the comfydock panel answer other machines that open ComfyUI at this name or address (host[:port]); repeatable', collectValues)
    .allowUnknownOption()
    .action(withContext<{ panelHost?: string[] }>(async (ctx, [comfyArgs], opts) => {
      const { runWithSidecar } = await import('../../server')
      const ws = await ctx.workspace()
      const env = await ctx.env()
      const args = (comfyArgs as string[] | undefined) ?? []
      const { venvDriftWarning } = await import('../../env/status')
      const drift = await venvDriftWarning(env).catch(() => undefined) // a warning never stops ComfyUI from starting
      if (drift) ctx.warn(drift)
      ctx.info(`Starting ComfyUI of "${env.name}": python main.py ${args.join(' ')}`.trimEnd())
      const code = await runWithSidecar(ws, env, args, {
        starting: ({ comfyui, sidecar, bridge }) => {
          ctx.info(`ComfyUI: ${comfyui}  (comfydock panel: sidebar tab "Environment"; sidecar ${sidecar.url})`)
          if (bridge.kept) ctx.warn(`${bridge.path} is a folder of your own, not the comfydock bridge; the panel may not load`)
        },
        // stdout carries only the JSON result; ComfyUI's own output goes to stderr
        stdio: ctx.json ? ['inherit', 2, 2] : 'inherit',
        panelHosts: opts.panelHost,
      })
      if (ctx.json) ctx.print({ environment: env.name, exit_code: code }, '')
      process.exitCode = code
    }))

  program
    .command('status')
    .description('git state of .cec and whether ComfyUI and the Python packages match the manifest')
    .action(withContext(async (ctx) => {
      // env/status alone, not the env barrel: status loads no installer, archive or bundle code.
      const { getEnvironmentStatus } = await import('../../env/status')
      const ws = await ctx.workspace()
      const status = await getEnvironmentStatus(ws, await ctx.env())
      ctx.print(status, () => {
        const lines = [`Environment ${style.bold(status.name)}${status.active ? ' (active)' : ''}: ${status.path}`]
        if (!status.complete) lines.push(style.yellow(`  incomplete: create or import did not finish; run \`comfydock delete ${status.name}\` and create it again`))
        for (const [name, section] of Object.entries(status.sections)) {
          lines.push(`  ${name.padEnd(10)}${section.ok ? style.green('ok  ') : style.yellow('!!  ')}${section.summary}`)
          for (const d of section.details ?? []) lines.push(`              ${d}`)
        }
        if (!status.sections.git?.ok) lines.push('', 'Record the changes with `comfydock commit -m "..."`.')
        return lines.join('\n')
      })
    }))
}
