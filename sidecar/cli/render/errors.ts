/** @module How errors reach the user: `error[CODE]:` and `hint:` lines, JSON with --json, stacks only with --verbose. */
import { isComfydockError, redactSecrets, toErrorPayload } from '../../errors'
import { style } from './style'

export interface ErrorRenderOptions {
  json?: boolean
  verbose?: boolean
}

/** Prints the error and returns the exit code. */
export function renderError (err: unknown, opts: ErrorRenderOptions): number {
  const payload = toErrorPayload(err)
  payload.message = redactSecrets(payload.message)
  const exitCode = payload.code === 'USAGE' ? 2 : 1
  if (opts.json) {
    process.stdout.write(JSON.stringify({ error: payload }) + '\n')
    if (opts.verbose && err instanceof Error) process.stderr.write(`${err.stack}\n`)
    return exitCode
  }
  const e = process.stderr
  if (isComfydockError(err)) {
    e.write(`${style.red(`error[${payload.code}]`, e)}: ${payload.message}\n`)
    if (payload.hint) e.write(`${style.cyan('hint', e)}: ${payload.hint}\n`)
    if (opts.verbose) e.write(`${err.stack}\n${err.cause instanceof Error ? `caused by: ${err.cause.stack}\n` : ''}`)
  } else {
    e.write(`${style.red('error[INTERNAL]', e)}: ${payload.message}\n`)
    e.write(`${err instanceof Error ? err.stack : String(err)}\n`)
    e.write('This is a bug in comfydock; please report it with the output above.\n')
  }
  return exitCode
}

/** The one line for a command stopped by Ctrl-C; exit code 130 (128 + SIGINT), as shells expect. */
export function renderCancelled (err: unknown, json: boolean): number {
  const message = isComfydockError(err) && err.code === 'CANCELLED' && err.message !== 'cancelled' ? err.message : 'stopped by Ctrl-C'
  if (json) process.stdout.write(JSON.stringify({ error: { code: 'CANCELLED', message } }) + '\n')
  else process.stderr.write(`cancelled: ${message}\n`)
  return 130
}
