/**
 * @module What every command handler gets: global options, the workspace, a progress sink,
 * result printing (human or --json) and prompts that only ever run on a TTY.
 */
import type { Command } from 'commander'
import { ComfydockError } from '../errors'
import type { OnProgress } from '../protocol'
import type { EnvPaths, Workspace } from '../workspace'
import { createProgressRenderer, type ProgressRenderer } from './render/progress'

export interface GlobalOptions {
  env?: string
  json?: boolean
  yes?: boolean
  verbose?: boolean
  workspace?: string
}

export interface Choice<T> {
  name: string
  value: T
  description?: string
}

/**
 * Ctrl-C (SIGINT) and SIGTERM cancel the running command through one AbortSignal, the same path the
 * panel's cancel takes through the core: each operation stops, puts back what it changed and throws
 * CANCELLED; main prints one line and exits 130. A second Ctrl-C exits at once.
 */
let interrupted = false
export const wasInterrupted = (): boolean => interrupted

function listenForInterrupt (ctl: AbortController): () => void {
  const onSignal = (): void => {
    if (interrupted) process.exit(130)
    interrupted = true
    ctl.abort(new ComfydockError('CANCELLED', 'cancelled'))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return () => {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

export class CliContext {
  readonly opts: GlobalOptions
  private readonly ctl = new AbortController()
  /** Aborted by Ctrl-C or SIGTERM: handed to every core call that can be cancelled. */
  readonly signal: AbortSignal = this.ctl.signal
  stopListening?: () => void
  private renderer?: ProgressRenderer
  private ws?: Workspace
  private locks: Array<{ release (): Promise<void> }> = []

  constructor (opts: GlobalOptions) {
    this.opts = opts
  }

  /** Starts turning Ctrl-C into a cancel of this command (until `close`). */
  listen (): void {
    this.stopListening ??= listenForInterrupt(this.ctl)
  }

  /** For a command that gathers per-item failures: a cancel stops it as a whole. */
  throwIfCancelled (): void {
    if (this.signal.aborted) throw new ComfydockError('CANCELLED', 'cancelled')
  }

  get json (): boolean { return Boolean(this.opts.json) }
  get yes (): boolean { return Boolean(this.opts.yes) }
  get interactive (): boolean { return !this.opts.yes && !this.opts.json && Boolean(process.stdin.isTTY && process.stdout.isTTY) }

  async workspace (): Promise<Workspace> {
    // loaded here, not at startup: `--help` and usage errors need no workspace (nor zod)
    const { Workspace } = await import('../workspace')
    this.ws ??= await Workspace.open(this.opts.workspace)
    return this.ws
  }

  /** The environment named by -e, else the active one. */
  async env (): Promise<EnvPaths> {
    return (await this.workspace()).resolveEnv(this.opts.env)
  }

  /**
   * The environment, locked against other comfydock processes (another CLI, the panel's sidecar) until
   * the command ends. For commands that write `.cec`: two writers of one pyproject would lose an edit.
   */
  async lockedEnv (operation: string): Promise<EnvPaths> {
    const env = await this.env()
    const { acquireEnvLock } = await import('../env')
    this.locks.push(await acquireEnvLock(env, `comfydock ${operation}`))
    return env
  }

  async releaseLocks (): Promise<void> {
    for (const lock of this.locks.splice(0)) await lock.release()
  }

  get onProgress (): OnProgress {
    this.renderer ??= createProgressRenderer(this.json ? 'json' : process.stderr.isTTY ? 'tty' : 'plain')
    return this.renderer.onProgress
  }

  /** Prints the result: JSON on stdout with --json, else the human text. */
  print (result: unknown, human: string | (() => string)): void {
    this.close()
    if (this.json) {
      process.stdout.write(JSON.stringify(result, null, 2) + '\n')
      return
    }
    const text = typeof human === 'function' ? human() : human
    if (text) process.stdout.write(text.endsWith('\n') ? text : text + '\n')
  }

  /** A line for the user that is not the result (stderr; silent with --json). */
  info (line: string): void {
    if (!this.json) process.stderr.write(line + '\n')
  }

  warn (line: string): void {
    if (this.json) this.onProgress({ op: 'warn', phase: 'note', level: 'warn', label: line, message: line })
    else process.stderr.write(`warning: ${line}\n`)
  }

  /**
   * Asks yes/no. --yes answers yes; without a TTY (and without --yes) it refuses with a hint,
   * so scripts never hang on a hidden prompt.
   */
  async confirm (message: string, opts: { default?: boolean } = {}): Promise<boolean> {
    if (this.yes) return true
    if (!this.interactive) {
      throw new ComfydockError('CONFIRMATION_REQUIRED', `${message} (needs confirmation)`, { hint: 'Re-run with --yes to confirm without a prompt.' })
    }
    this.close()
    const { confirm } = await import('@inquirer/prompts')
    return confirm({ message, default: opts.default ?? false })
  }

  /** Lets the user pick; returns undefined with --yes or without a TTY (nothing ambiguous is chosen silently). */
  async select<T> (message: string, choices: Choice<T>[]): Promise<T | undefined> {
    if (!this.interactive) return undefined
    this.close()
    const { select } = await import('@inquirer/prompts')
    return select({ message, choices })
  }

  /** Asks for a line of text; undefined without a TTY (or with --yes). */
  async input (message: string): Promise<string | undefined> {
    if (!this.interactive) return undefined
    this.close()
    const { input } = await import('@inquirer/prompts')
    return (await input({ message })).trim() || undefined
  }

  close (): void {
    this.renderer?.close()
    this.renderer = undefined
  }
}

/**
 * Wraps a commander action: builds the context from global and local options.
 * `fn(ctx, args, opts)` gets the positional arguments and the command's own options.
 */
/** Commander's argument parser for an option that may be given several times. */
export function collectValues (value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value]
}

export function withContext<O = Record<string, unknown>> (fn: (ctx: CliContext, args: any[], opts: O) => Promise<void>) {
  return async (...all: unknown[]): Promise<void> => {
    const cmd = all[all.length - 1] as Command
    const opts = all[all.length - 2] as O
    const args = all.slice(0, -2)
    const ctx = new CliContext(cmd.optsWithGlobals() as GlobalOptions)
    ctx.listen()
    try {
      await fn(ctx, args, opts)
    } finally {
      ctx.close()
      await ctx.releaseLocks()
      ctx.stopListening?.()
    }
  }
}
