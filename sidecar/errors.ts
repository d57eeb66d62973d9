/**
 * @module The one error type. A user error carries a stable code, a message that says
 * what is wrong (quoting the value or file) and a hint naming the command that fixes it.
 */
import type { ErrorCode, ErrorPayload } from './protocol'

export interface ErrorOptions {
  hint?: string
  cause?: unknown
}

export class ComfydockError extends Error {
  readonly code: ErrorCode
  readonly hint?: string

  constructor (code: ErrorCode, message: string, opts: ErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = 'ComfydockError'
    this.code = code
    this.hint = opts.hint
  }

  toPayload (): ErrorPayload {
    return this.hint === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, hint: this.hint }
  }
}

export function isComfydockError (err: unknown): err is ComfydockError {
  return err instanceof ComfydockError
}

/** A payload for any thrown value; unknown errors become INTERNAL without leaking details. */
export function toErrorPayload (err: unknown): ErrorPayload {
  if (isComfydockError(err)) return err.toPayload()
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) }
}

/** Hides credentials that end up in URLs and messages (`user:pass@`, `token=...`, bearer headers). */
export function redactSecrets (text: string): string {
  return text
    .replace(/(\w+:\/\/)[^/\s:@]+:[^/\s@]+@/g, '$1***@')
    .replace(/([?&](?:token|access_token|api_key|key)=)[^&\s]+/gi, '$1***')
    .replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]+/g, '$1***')
}
