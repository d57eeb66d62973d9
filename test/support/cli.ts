/** Runs the built CLI (dist/cli.js) as a user would, in a given workspace. */
import { spawn, spawnSync } from 'node:child_process'
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

/**
 * The same, without blocking this process: needed whenever the CLI talks to a loopback server living
 * in the test process (spawnSync would freeze that server and deadlock), or several run at once.
 */
export function runCliAsync (args: string[], opts: { workspace?: string, env?: NodeJS.ProcessEnv, cwd?: string } = {}): Promise<CliResult> {
  const full = opts.workspace ? ['--workspace', opts.workspace, ...args] : args
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...full], { cwd: opts.cwd, env: { ...process.env, NO_COLOR: '1', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString('utf8') })
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString('utf8') })
    child.on('error', reject)
    child.on('close', code => resolve({ code: code ?? 1, stdout, stderr, json: <T>() => JSON.parse(stdout) as T }))
  })
}
