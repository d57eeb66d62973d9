/**
 * Ctrl-C during `import` and `repair`, the commands that build or mend a whole environment: the real CLI
 * gets SIGINT while it downloads a model from a loopback server that has stopped sending (after the
 * progress line says it is under way). Import leaves no environment and no work folder; repair leaves the
 * environment as it was; both leave no partial model file and exit 130 with one "cancelled" line.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Workspace } from '../../sidecar/workspace'
import { CLI, runCliAsync } from '../support/cli'
import { makeComfyuiRepo, type ComfyuiRepo } from '../support/comfyui-repo'
import { makeTempDir } from '../support/temp-dir'
import { PROJECT, bundleManifest, writeBundle } from './support/hostile-env'

let root: string
let comfyui: ComfyuiRepo
let bundle: string
let server: Server
let url: string

beforeAll(async () => {
  root = makeTempDir('cancel-env')
  // 8 MiB announced, 4 MiB sent, then nothing: a download caught half-way, for as long as the test wants
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 8 * 1024 * 1024 })
    res.write(Buffer.alloc(4 * 1024 * 1024, 3))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/big.safetensors`
  comfyui = await makeComfyuiRepo(join(root, 'comfyui-src'))
  bundle = writeBundle(join(root, 'e.tar.gz'), {
    'manifest.json': JSON.stringify(bundleManifest('e', [])),
    'pyproject.toml': `${PROJECT}\n[tool.comfydock]\nschema_version = 1\ncomfyui_version = "v0.3.7"\ncomfyui_version_type = "release"\n\n` +
      `[tool.comfydock.models.0123456789abcdef]\nfilename = "big.safetensors"\nsize = ${8 * 1024 * 1024}\nrelative_path = "checkpoints/big.safetensors"\n` +
      `category = "checkpoints"\ncriticality = "required"\nsources = ["${url}"]\n`,
  })
}, 240_000)
afterAll(async () => { server?.closeAllConnections(); server?.close() })

async function workspace (name: string): Promise<Workspace> {
  const { workspace: ws } = await Workspace.init(join(root, name, 'ws'))
  await ws.setConfig('comfyui_source', comfyui.url)
  return ws
}

/** Runs the CLI, sends SIGINT once the download's 25% line is out, and returns how it ended. */
async function interruptMidDownload (args: string[], ws: string): Promise<{ code: number | null, stderr: string }> {
  const child = spawn(process.execPath, [CLI, '--workspace', ws, ...args], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  let sent = false
  child.stdout.resume()
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString('utf8')
    if (!sent && /big\.safetensors: 25%/.test(stderr)) { sent = true; child.kill('SIGINT') }
  })
  const code = await new Promise<number | null>(resolve => child.on('close', c => resolve(c)))
  expect(sent, `the command ended before the download was under way:\n${stderr}`).toBe(true)
  return { code, stderr }
}

function expectCancelled (r: { code: number | null, stderr: string }): void {
  expect(r.code, r.stderr).toBe(130)
  expect(r.stderr.trim().split('\n').pop()).toMatch(/^cancelled: /)
  expect(r.stderr).not.toMatch(/error\[|\n\s+at /)
}

const files = (dir: string): string[] => existsSync(dir)
  ? (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[]).filter(e => e.isFile()).map(e => join(e.parentPath, e.name).slice(dir.length + 1)).sort()
  : []

describe('Ctrl-C during import and repair', () => {
  it('import: no environment, no work folder and no partial model are left; the name stays free', async () => {
    const ws = await workspace('import')
    mkdirSync(ws.modelsDir, { recursive: true })
    const r = await interruptMidDownload(['import', bundle, '--yes', '--models', 'all'], ws.root)
    expectCancelled(r)
    const envs = join(ws.root, 'environments')
    expect(existsSync(envs) ? readdirSync(envs) : []).toEqual([])
    expect(files(ws.modelsDir)).toEqual([])
    const listed = await runCliAsync(['list', '--json'], { workspace: ws.root })
    expect(listed.json().environments).toEqual([])
  }, 180_000)

  it('repair: the environment stays as it was and complete, with no partial model', async () => {
    const ws = await workspace('repair')
    const imported = await runCliAsync(['import', bundle, '--yes', '--models', 'skip', '--json'], { workspace: ws.root })
    expect(imported.code, imported.stderr).toBe(0)
    const before = await runCliAsync(['-e', 'e', 'status', '--json'], { workspace: ws.root })
    const r = await interruptMidDownload(['-e', 'e', 'repair', '--yes', '--models', 'all'], ws.root)
    expectCancelled(r)
    expect(files(ws.modelsDir)).toEqual([])
    const after = await runCliAsync(['-e', 'e', 'status', '--json'], { workspace: ws.root })
    expect(after.json()).toEqual(before.json())
    // the environment lock was released: a command that takes it runs
    const again = await runCliAsync(['-e', 'e', 'repair', '--dry-run', '--json'], { workspace: ws.root })
    expect(again.code, again.stderr).toBe(0)
  }, 180_000)
})
