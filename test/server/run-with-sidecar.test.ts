import { spawn } from 'node:child_process'
import { lstatSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { join, resolve } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { comfyuiUrlFromArgs, panelHostOrigins } from '../../sidecar/server'
import { CLI, runCli } from '../support/cli'
import { makeComfyuiRepo, type ComfyuiRepo } from '../support/comfyui-repo'
import { makeTempDir } from '../support/temp-dir'

let repo: ComfyuiRepo
let ws: string

function freePort (): Promise<number> {
  return new Promise(resolve => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port
      srv.close(() => resolve(port))
    })
  })
}

async function waitFor<T> (fn: () => Promise<T | undefined> | T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const v = await Promise.resolve().then(fn).catch(() => undefined)
    if (v !== undefined) return v
    await new Promise(r => setTimeout(r, 100))
  }
  throw new Error(`gave up waiting for ${what}`)
}

/** The variables a running process was started with (Linux /proc). */
function environOfProcessWith (needle: string): Record<string, string> | undefined {
  for (const pid of readdirSync('/proc').filter(p => /^\d+$/.test(p))) {
    let text: string
    try { text = readFileSync(`/proc/${pid}/environ`, 'utf8') } catch { continue }
    if (!text.includes(needle)) continue
    return Object.fromEntries(text.split('\0').filter(Boolean).map(kv => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
  }
  return undefined
}

beforeAll(async () => {
  const dir = makeTempDir('runsc')
  repo = await makeComfyuiRepo(dir)
  ws = join(dir, 'ws')
  runCli(['init', ws])
  runCli(['config', 'comfyui_source', repo.url], { workspace: ws })
  const res = runCli(['create', 'main'], { workspace: ws, env: repo.indexEnv })
  expect(res.code, res.stderr).toBe(0)
}, 180_000)

describe('comfyuiUrlFromArgs', () => {
  it('reads ComfyUI\'s --listen and --port, defaulting to 127.0.0.1:8188', () => {
    expect(comfyuiUrlFromArgs([])).toBe('http://127.0.0.1:8188')
    expect(comfyuiUrlFromArgs(['--cpu', '--port', '8190'])).toBe('http://127.0.0.1:8190')
    expect(comfyuiUrlFromArgs(['--listen', '0.0.0.0', '--port=9000'])).toBe('http://127.0.0.1:9000')
    expect(comfyuiUrlFromArgs(['--listen', 'localhost'])).toBe('http://localhost:8188')
  })
})

describe('panelHostOrigins (`run --panel-host`)', () => {
  it('names the hosts for the bridge and the origins a browser on another machine sends', () => {
    expect(panelHostOrigins(['192.168.1.20', 'studio.local:9000', '[fd00::2]'], 'http://127.0.0.1:8188')).toEqual({
      names: ['192.168.1.20', 'studio.local', 'fd00::2'],
      origins: ['http://192.168.1.20:8188', 'https://192.168.1.20:8188', 'http://studio.local:9000', 'https://studio.local:9000', 'http://[fd00::2]:8188', 'https://[fd00::2]:8188'],
    })
  })

  it('refuses what is not a host', () => {
    for (const bad of ['http://x', 'a/b', 'user@host', '', 'a b']) {
      expect(() => panelHostOrigins([bad], 'http://127.0.0.1:8188'), bad).toThrow(/is not a host name or address/)
    }
  })
})

describe.skipIf(process.platform !== 'linux')('comfydock run starts the sidecar and the bridge with ComfyUI', () => {
  it('links the bridge, hands ComfyUI the sidecar URL and token, and stops both on SIGTERM', async () => {
    const port = await freePort()
    const child = spawn(process.execPath, [CLI, '--workspace', ws, 'run', '--', '--port', String(port)], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } })
    let stderr = ''
    child.stderr.on('data', d => { stderr += String(d) })
    const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)))
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/api/object_info`)).ok || undefined, 'ComfyUI')

    const sidecarUrl = /sidecar (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1]
    expect(sidecarUrl, stderr).toBeTruthy()
    expect(stderr).toContain(`ComfyUI: http://127.0.0.1:${port}`)

    const bridge = join(ws, 'environments', 'main', 'ComfyUI', 'custom_nodes', 'comfydock')
    expect(resolve(join(bridge, '..'), readlinkSync(bridge))).toBe(resolve(import.meta.dirname, '..', '..', 'web'))

    const vars = await waitFor(() => environOfProcessWith(`COMFYDOCK_SIDECAR_URL=${sidecarUrl}`), 'ComfyUI environment')
    const token = vars.COMFYDOCK_SIDECAR_TOKEN
    // not opted in: the bridge answers loopback clients only
    expect(vars.COMFYDOCK_PANEL_HOSTS ?? '').toBe('')
    expect((await fetch(`${sidecarUrl}/health`)).status).toBe(401)
    const ok = await fetch(`${sidecarUrl}/health`, { headers: { authorization: `Bearer ${token}`, origin: `http://127.0.0.1:${port}` } })
    expect(ok.status).toBe(200)
    const foreign = await fetch(`${sidecarUrl}/health`, { headers: { authorization: `Bearer ${token}`, origin: 'http://127.0.0.1:1' } })
    expect(foreign.status).toBe(403)

    child.kill('SIGTERM')
    expect(await exited).toBe(0)
    await expect(fetch(`${sidecarUrl}/health`)).rejects.toThrow()
  })

  it('--panel-host opts other machines in: the bridge learns the name, the sidecar accepts that origin', async () => {
    const port = await freePort()
    const child = spawn(process.execPath, [CLI, '--workspace', ws, 'run', '--panel-host', '192.0.2.77', '--', '--port', String(port)], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } })
    let stderr = ''
    child.stderr.on('data', d => { stderr += String(d) })
    const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)))
    try {
      const sidecarUrl = await waitFor(() => /sidecar (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1], 'the sidecar URL')
      const vars = await waitFor(() => environOfProcessWith(`COMFYDOCK_SIDECAR_URL=${sidecarUrl}`), 'ComfyUI environment')
      expect(vars.COMFYDOCK_PANEL_HOSTS).toBe('192.0.2.77')
      const auth = { authorization: `Bearer ${vars.COMFYDOCK_SIDECAR_TOKEN}` }
      expect((await fetch(`${sidecarUrl}/health`, { headers: { ...auth, origin: `http://192.0.2.77:${port}` } })).status).toBe(200)
      expect((await fetch(`${sidecarUrl}/health`, { headers: { ...auth, origin: `http://192.0.2.78:${port}` } })).status).toBe(403)
    } finally {
      child.kill('SIGTERM')
      await exited
    }
  })

  it('--json keeps stdout for the JSON result: ComfyUI\'s own output goes to stderr', async () => {
    const port = await freePort()
    const child = spawn(process.execPath, [CLI, '--workspace', ws, '--json', 'run', '--', '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', d => { stdout += String(d) })
    child.stderr.on('data', d => { stderr += String(d) })
    const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)))
    await waitFor(() => stderr.includes('To see the GUI go to') || undefined, 'ComfyUI\'s banner on stderr')
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(JSON.parse(stdout)).toEqual({ environment: 'main', exit_code: 0 })
  })

  it('refuses an incomplete environment without linking the bridge into it', () => {
    const envRoot = join(ws, 'environments', 'main')
    const bridge = join(envRoot, 'ComfyUI', 'custom_nodes', 'comfydock')
    rmSync(bridge, { force: true })
    const marker = join(envRoot, '.cec', '.complete')
    renameSync(marker, marker + '.off')
    try {
      const res = runCli(['run'], { workspace: ws })
      expect(res.code).toBe(1)
      expect(res.stderr).toContain('error[ENV_INCOMPLETE]')
      expect(lstatSync(bridge, { throwIfNoEntry: false })).toBeUndefined()
    } finally {
      renameSync(marker + '.off', marker)
    }
  })
})
