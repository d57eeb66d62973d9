import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { describe, expect, it } from 'vitest'
import { CLI, runCli } from '../support/cli'
import { makeEnvWorkspace } from './fixture'

function startServe (root: string, args: string[]) {
  const child = spawn(process.execPath, [CLI, '--workspace', root, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  const firstLine = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve)
    child.once('exit', code => reject(new Error(`serve exited with ${code}`)))
  })
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  return { child, firstLine, exited }
}

describe('comfydock serve', () => {
  it('--json prints one line with url, ws and token, and the sidecar answers with that token', async () => {
    const { root } = await makeEnvWorkspace()
    const { child, firstLine, exited } = startServe(root, ['--json', '--origin', 'http://127.0.0.1:8188'])
    const info = JSON.parse(await firstLine) as { url: string, ws: string, token: string }
    expect(info.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(info.ws).toBe(`${info.url.replace('http', 'ws')}/ws`)
    expect(info.token.length).toBeGreaterThan(20)
    expect((await fetch(`${info.url}/health`)).status).toBe(401)
    const ok = await fetch(`${info.url}/health`, { headers: { authorization: `Bearer ${info.token}` } })
    expect(ok.status).toBe(200)
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  })

  it('uses the port it is given and a new token on every start', async () => {
    const { root } = await makeEnvWorkspace()
    const a = startServe(root, ['--json'])
    const first = JSON.parse(await a.firstLine)
    const port = Number(new URL(first.url).port)
    a.child.kill('SIGTERM')
    await a.exited
    const b = startServe(root, ['--json', '--port', String(port)])
    const second = JSON.parse(await b.firstLine)
    expect(second.url).toBe(first.url)
    expect(second.token).not.toBe(first.token)
    b.child.kill('SIGTERM')
    await b.exited
  })

  it('refuses a port that is taken, with a hint', async () => {
    const { root } = await makeEnvWorkspace()
    const a = startServe(root, ['--json'])
    const port = new URL(JSON.parse(await a.firstLine).url).port
    const res = runCli(['serve', '--json', '--port', port], { workspace: root })
    a.child.kill('SIGTERM')
    await a.exited
    expect(res.code).not.toBe(0)
    expect(res.stdout).toContain('already in use')
  })

  it('refuses a malformed --origin', async () => {
    const { root } = await makeEnvWorkspace()
    const res = runCli(['serve', '--origin', 'not a url'], { workspace: root })
    expect(res.code).not.toBe(0)
    expect(res.stderr).toContain('not a URL')
  })
})


describe('CLI startup', () => {
  it('loads only the argument parser before a command runs; each command imports its own packages (progress bars only on a TTY)', async () => {
    const { readFileSync } = await import('node:fs')
    const entry = readFileSync(CLI, 'utf8')
    const packages = [...entry.matchAll(/^import\s[^;]*?from\s*"([^".][^"]*)"/gm)].map(m => m[1]).filter(p => !p.startsWith('node:'))
    expect([...new Set(packages)].sort()).toEqual(['commander'])
    expect(runCli(['--version']).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/)
  })
})
