/** Runs the built CLI (dist/cli.js) as a user would, in a given workspace. */
import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'

export const CLI = resolve(import.meta.dirname, '..', '..', 'dist', 'cli.js')

export interface CliResult {
  code: number
  stdout: string
  stderr: string
  /** stdout parsed as JSON (for --json runs). */
  json: <T = any>() => T
}

export function runCli (args: string[], opts: { workspace?: string, env?: NodeJS.ProcessEnv, cwd?: string, input?: string } = {}): CliResult {
  const full = opts.workspace ? ['--workspace', opts.workspace, ...args] : args
  const res = spawnSync(process.execPath, [CLI, ...full], {
    cwd: opts.cwd,
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    input: opts.input,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  })
  return {
    code: res.status ?? 1,
    stdout: res.stdout,
    stderr: res.stderr,
    json: <T>() => JSON.parse(res.stdout) as T,
  }
}
