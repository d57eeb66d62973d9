/**
 * @module Starting ComfyUI with the environment's interpreter from its `ComfyUI/` folder.
 * `spawnComfyUI` is the building block (the sidecar server starts ComfyUI with it too); `runComfyUI`
 * is the foreground version for the CLI that forwards Ctrl-C / SIGTERM and waits for a clean exit.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process'
import { delimiter, dirname } from 'node:path'
import { writeExtraModelPaths } from '../comfyui'
import { ComfydockError } from '../errors'
import { pathExists } from '../fs'
import { venvPython, type EnvPaths, type Workspace } from '../workspace'

export interface SpawnComfyUIOptions {
  stdio?: StdioOptions
  /** Added to the inherited environment variables. */
  env?: NodeJS.ProcessEnv
}

export interface ComfyUIProcess {
  child: ChildProcess
  /** Resolves with the exit code once ComfyUI has exited (128+n when killed by signal n). */
  exited: Promise<number>
  /** Sends `signal` (default SIGTERM) to ComfyUI and its children; SIGKILL after `graceMs`. */
  stop (signal?: NodeJS.Signals, graceMs?: number): Promise<number>
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 }

/** Refuses an environment whose create/import did not finish (no marker, venv or ComfyUI/). */
export async function assertRunnable (env: EnvPaths): Promise<void> {
  const python = venvPython(env.venv)
  const missing = !(await pathExists(python)) ? 'its venv' : !(await pathExists(env.comfyui)) ? 'ComfyUI/' : !(await pathExists(env.completeMarker)) ? 'the .complete marker' : undefined
  if (missing) {
    throw new ComfydockError('ENV_INCOMPLETE', `environment "${env.name}" is not complete (missing ${missing})`, {
      hint: `Delete it with \`comfydock delete ${env.name}\` and create it again.`,
    })
  }
}

export async function spawnComfyUI (ws: Workspace, env: EnvPaths, args: readonly string[] = [], opts: SpawnComfyUIOptions = {}): Promise<ComfyUIProcess> {
  await assertRunnable(env)
  const python = venvPython(env.venv)
  // The models directory may have changed since create (`comfydock config models_dir`).
  await writeExtraModelPaths(env.extraModelPaths, ws.modelsDir)
  const child = spawn(python, ['main.py', ...args], {
    cwd: env.comfyui,
    stdio: opts.stdio ?? 'inherit',
    // Own process group: a stop reaches ComfyUI's own children too, and Ctrl-C is forwarded once.
    detached: process.platform !== 'win32',
    env: {
      ...process.env,
      VIRTUAL_ENV: env.venv,
      PATH: `${dirname(python)}${delimiter}${process.env.PATH ?? ''}`,
      PYTHONUNBUFFERED: '1',
      ...opts.env,
    },
  })
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', err => reject(new ComfydockError('COMMAND_FAILED', `could not start ComfyUI with ${python}: ${err.message}`, { cause: err })))
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? SIGNAL_NUMBERS[signal] ?? 1 : 1)))
  })
  const send = (signal: NodeJS.Signals): void => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
    try {
      if (process.platform === 'win32') child.kill(signal)
      else process.kill(-child.pid, signal)
    } catch { /* already gone */ }
  }
  return {
    child,
    exited,
    async stop (signal = 'SIGTERM', graceMs = 15_000) {
      send(signal)
      const timer = setTimeout(() => send('SIGKILL'), graceMs)
      try {
        return await exited
      } finally {
        clearTimeout(timer)
      }
    },
  }
}

/** Runs ComfyUI in the foreground until it exits; SIGINT/SIGTERM to us stop it cleanly. Returns its exit code. */
export async function runComfyUI (ws: Workspace, env: EnvPaths, args: readonly string[] = [], opts: SpawnComfyUIOptions = {}): Promise<number> {
  const proc = await spawnComfyUI(ws, env, args, opts)
  const forward = (signal: NodeJS.Signals): void => { void proc.stop(signal) }
  const onInt = (): void => forward('SIGINT')
  const onTerm = (): void => forward('SIGTERM')
  process.on('SIGINT', onInt)
  process.on('SIGTERM', onTerm)
  try {
    return await proc.exited
  } finally {
    process.off('SIGINT', onInt)
    process.off('SIGTERM', onTerm)
  }
}
