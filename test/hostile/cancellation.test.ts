/**
 * Ctrl-C on the CLI: the real process gets SIGINT in the middle of its work (a loopback server that
 * stops sending after part of the body makes "the middle" certain: the test waits for the progress
 * line, then signals). It must stop with exit code 130 and one "cancelled" line, leaving the state
 * before the command: no partial or temp files, no half pack folder, the manifest unchanged.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Workspace } from '../../sidecar/workspace'
import { CLI } from '../support/cli'
import { startRegistryServer, type RegistryServer } from '../support/registry-server'
import { makeTempDir } from '../support/temp-dir'
import { PROJECT, envOnDisk } from './support/hostile-env'

interface Running {
  /** Resolves once stderr matches. */
  waitFor (re: RegExp): Promise<void>
  interrupt (): void
  done: Promise<{ code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string }>
}

function startCli (args: string[], workspace: string): Running {
  const child = spawn(process.execPath, [CLI, '--workspace', workspace, ...args], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  const waiters: Array<{ re: RegExp, resolve: () => void }> = []
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString('utf8') })
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString('utf8')
    for (const w of waiters.splice(0)) if (w.re.test(stderr)) w.resolve(); else waiters.push(w)
  })
  const done = new Promise<{ code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string }>(resolve => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
  return {
    waitFor: re => new Promise((resolve, reject) => {
      if (re.test(stderr)) { resolve(); return }
      waiters.push({ re, resolve })
      void done.then(r => reject(new Error(`the CLI ended (${r.code}) before ${re}:\n${r.stderr}`)))
    }),
    interrupt: () => { child.kill('SIGINT') },
    done,
  }
}

/** Serves `size` bytes at any path, but sends only the first `sent` of them and then holds the connection. */
async function startStallingServer (size: number, sent: number): Promise<{ url: string, requests: () => number, close: () => Promise<void> }> {
  let requests = 0
  const server: Server = createServer((_req, res) => {
    requests++
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size })
    res.write(Buffer.alloc(sent, 7))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    close: () => new Promise(resolve => { server.closeAllConnections(); server.close(() => resolve()) }),
  }
}

/** Every file under `dir` (relative paths), to compare a tree before and after. */
function tree (dir: string): string[] {
  if (!existsSync(dir)) return []
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter(e => e.isFile())
    .map(e => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort()
}

function expectCancelled (r: { code: number | null, stderr: string }): void {
  expect(r.code, r.stderr).toBe(130)
  const lines = r.stderr.trim().split('\n')
  expect(lines[lines.length - 1]).toMatch(/^cancelled: /)
  expect(r.stderr).not.toMatch(/error\[|\n\s+at /)
}

let registry: RegistryServer
beforeAll(async () => {
  registry = await startRegistryServer([
    // random bytes do not compress: the zip is far larger than the part the server sends
    { id: 'slow-pack', versions: [{ version: '1.0.0', files: { '__init__.py': `NODE_CLASS_MAPPINGS = {}\n# ${randomBytes(30_000).toString('base64')}\n` }, stallAfter: 2000 }] },
  ])
})
afterAll(async () => { await registry?.stop() })

describe('Ctrl-C stops a command cleanly', () => {
  it('model download: exit 130, no partial file in the models folder, nothing indexed', async () => {
    const server = await startStallingServer(8 * 1024 * 1024, 4 * 1024 * 1024)
    try {
      const { workspace: ws } = await Workspace.init(join(makeTempDir('cancel-dl'), 'ws'))
      const before = tree(ws.modelsDir)
      const run = startCli(['model', 'download', `${server.url}/big.safetensors`, '--category', 'checkpoints'], ws.root)
      await run.waitFor(/big\.safetensors: 25%/)
      run.interrupt()
      const r = await run.done
      expectCancelled(r)
      expect(tree(ws.modelsDir)).toEqual(before)
      const list = await new Promise<string>(resolve => {
        const c = spawn(process.execPath, [CLI, '--workspace', ws.root, 'model', 'index', 'list', '--json'])
        let out = ''
        c.stdout.on('data', (b: Buffer) => { out += b.toString() })
        c.on('close', () => resolve(out))
      })
      expect(JSON.parse(list).models).toEqual([])
    } finally {
      await server.close()
    }
  })

  it('node add: exit 130, no pack folder or staging left, pyproject.toml and the archive cache as they were', async () => {
    const { workspace: ws } = await Workspace.init(join(makeTempDir('cancel-node'), 'ws'))
    await ws.setConfig('registry_url', registry.url)
    const env = envOnDisk(ws.root, 'e', `${PROJECT}\n[tool.comfydock]\nschema_version = 1\n`)
    const pyproject = readFileSync(join(env.cec, 'pyproject.toml'), 'utf8')
    const run = startCli(['-e', 'e', 'node', 'add', 'slow-pack'], ws.root)
    await run.waitFor(/download slow-pack/)
    // the zip's first bytes were sent and the server holds the rest: the command is mid-download
    while (registry.hits('/files/slow-pack') === 0) await new Promise(resolve => setTimeout(resolve, 20))
    run.interrupt()
    const r = await run.done
    expectCancelled(r)
    expect(readFileSync(join(env.cec, 'pyproject.toml'), 'utf8')).toBe(pyproject)
    expect(readdirSync(env.customNodes)).toEqual([])
    expect(tree(join(env.root, '.comfydock-staging'))).toEqual([])
    expect(tree(join(ws.root, 'cache', 'nodes-v1'))).toEqual([])
    // the environment lock is released: the next command runs
    const again = startCli(['-e', 'e', 'node', 'list', '--json'], ws.root)
    expect((await again.done).code).toBe(0)
  })

  it('export: exit 130 and no bundle or temp file where it was going', async () => {
    const { workspace: ws } = await Workspace.init(join(makeTempDir('cancel-export'), 'ws'))
    const env = envOnDisk(ws.root, 'e', `${PROJECT}\n[tool.comfydock]\nschema_version = 1\n\n[tool.comfydock.nodes.big]\nname = "big"\nversion = "dev"\nsource = "development"\n`, {
      'ComfyUI/custom_nodes/big/__init__.py': 'NODE_CLASS_MAPPINGS = {}\n',
    })
    // a large development node (sparse, so it costs no disk): the export is long enough to interrupt
    const weights = join(env.customNodes, 'big', 'weights.bin')
    writeFileSync(weights, '')
    truncateSync(weights, 800 * 1024 * 1024)
    const out = join(makeTempDir('cancel-export-out'), 'bundles')
    mkdirSync(out)
    const run = startCli(['-e', 'e', 'export', join(out, 'e.tar.gz'), '--allow-large-dev-nodes'], ws.root)
    await run.waitFor(/export e: 25%/)
    run.interrupt()
    const r = await run.done
    expectCancelled(r)
    expect(readdirSync(out)).toEqual([])
  })
})
