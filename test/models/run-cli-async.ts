/** Runs the built CLI without blocking this process, so a loopback server in the test can answer it. */
import { spawn } from 'node:child_process'
import { CLI, type CliResult } from '../support/cli'

export function runCliAsync (args: string[], opts: { workspace?: string, env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const full = opts.workspace ? ['--workspace', opts.workspace, ...args] : args
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...full], { env: { ...process.env, NO_COLOR: '1', ...opts.env } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', d => { stdout += d })
    child.stderr.on('data', d => { stderr += d })
    child.on('error', reject)
    child.on('close', code => resolve({ code: code ?? 1, stdout, stderr, json: <T>() => JSON.parse(stdout) as T }))
  })
}
