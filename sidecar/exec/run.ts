/**
 * @module Runs a program with an argument list (never a shell string). A non-zero exit becomes a
 * COMMAND_FAILED error carrying the tail of stderr, unless `allowFailure` is set.
 */
import { spawn } from 'node:child_process'
import { ComfydockError } from '../errors'

export interface RunOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  signal?: AbortSignal
  input?: string
  /** Called for every complete output line (stdout and stderr), for progress and logs. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void
  /** Return the result instead of throwing on a non-zero exit. */
  allowFailure?: boolean
  /** Hint attached to the error on failure. */
  hint?: string
}

export interface RunResult {
  code: number
  stdout: string
  stderr: string
}

export function run (cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      signal: opts.signal,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    const partial = { stdout: '', stderr: '' }
    const feed = (stream: 'stdout' | 'stderr', chunk: Buffer): void => {
      if (!opts.onLine) return
      const text = partial[stream] + chunk.toString('utf8')
      const lines = text.split(/\r?\n/)
      partial[stream] = lines.pop() ?? ''
      for (const line of lines) opts.onLine(line, stream)
    }
    child.stdout!.on('data', (c: Buffer) => { out.push(c); feed('stdout', c) })
    child.stderr!.on('data', (c: Buffer) => { err.push(c); feed('stderr', c) })
    if (opts.input !== undefined) child.stdin!.end(opts.input)
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') {
        reject(new ComfydockError('COMMAND_NOT_FOUND', `"${cmd}" was not found on PATH`, { hint: opts.hint, cause: e }))
      } else if (e.name === 'AbortError') {
        reject(new ComfydockError('CANCELLED', `${cmd} was cancelled`, { cause: e }))
      } else {
        reject(new ComfydockError('COMMAND_FAILED', `could not start ${cmd}: ${e.message}`, { hint: opts.hint, cause: e }))
      }
    })
    child.on('close', (code, signal) => {
      if (opts.onLine) {
        for (const s of ['stdout', 'stderr'] as const) if (partial[s]) opts.onLine(partial[s], s)
      }
      const result = { code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }
      if (result.code !== 0 && !opts.allowFailure) {
        const tail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-15).join('\n')
        reject(new ComfydockError('COMMAND_FAILED', `${cmd} ${args.slice(0, 3).join(' ')} failed (exit ${result.code})${tail ? `:\n${tail}` : ''}`, { hint: opts.hint }))
        return
      }
      resolve(result)
    })
  })
}
