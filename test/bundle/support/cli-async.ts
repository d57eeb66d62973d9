/**
 * Runs the built CLI without blocking this process: needed whenever the CLI talks to a loopback
 * server living in the test process (spawnSync would freeze the server and deadlock).
 */
import { spawn } from 'node:child_process'
import { CLI, type CliResult } from '../../support/cli'

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
