/**
 * The crash matrix: the real CLI is killed with SIGKILL (no handler runs, as in a power cut or an OOM
 * kill) in the middle of a scan, a commit, a node add and a model download, then the same command is run
 * again. After each: `.cec` passes `git fsck`, the model index passes `PRAGMA integrity_check`, no file of
 * the user's changed, and the rerun completes. "The middle" is found from the command's own progress
 * lines, or from a loopback server that stops sending after part of a body. (An import killed while it
 * builds the environment is in interrupted-import.test.ts; here one is killed in its model download.)
 */
import Database from 'better-sqlite3'
import { execFileSync, spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { basename, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readManifest } from '../../sidecar/manifest'
import { shortHash } from '../../sidecar/models'
import { Workspace } from '../../sidecar/workspace'
import { CORPUS } from '../bundle/support/env-on-disk'
import { CLI, runCliAsync } from '../support/cli'
import { startRegistryServer, type RegistryServer } from '../support/registry-server'
import { makeTempDir } from '../support/temp-dir'
import { makeComfyuiRepo } from '../support/comfyui-repo'
import { buildWheel } from '../support/wheels'
import { PROJECT, bundleManifest, envOnDisk, writeBundle } from './support/hostile-env'

/** Runs the CLI and kills it with SIGKILL once `when` resolves (given the stderr so far). */
async function killDuring (args: string[], workspace: string, when: (stderr: () => string) => Promise<void>, env: Record<string, string> = {}): Promise<string> {
  const child = spawn(process.execPath, [CLI, '--workspace', workspace, ...args], { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString('utf8') })
  child.stdout.resume()
  const closed = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => child.on('close', (code, signal) => resolve({ code, signal })))
  const ended = closed.then(r => { throw new Error(`the command ended (${r.code}) before the kill point:\n${stderr}`) })
  await Promise.race([when(() => stderr), ended])
  child.kill('SIGKILL')
  const r = await closed
  expect(r.signal).toBe('SIGKILL')
  return stderr
}

const until = async (ok: () => boolean): Promise<void> => { while (!ok()) await new Promise(resolve => setTimeout(resolve, 10)) }
const line = (re: RegExp) => async (stderr: () => string): Promise<void> => until(() => re.test(stderr()))

/** sha256 of every file under `dir`, by relative path. */
function fingerprint (dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  if (!existsSync(dir)) return out
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[]) {
    if (!e.isFile()) continue
    const p = join(e.parentPath, e.name)
    out[p.slice(dir.length + 1)] = createHash('sha256').update(readFileSync(p)).digest('hex')
  }
  return out
}

function expectGitSound (cec: string): void {
  // throws (non-zero exit) on any corruption; dangling objects are only reported
  execFileSync('git', ['-C', cec, 'fsck', '--no-progress'], { stdio: 'pipe' })
}

function expectIndexSound (ws: string): void {
  const file = join(ws, '.metadata', 'models.db')
  if (!existsSync(file)) return
  const db = new Database(file, { readonly: true })
  try {
    expect(db.pragma('integrity_check')).toEqual([{ integrity_check: 'ok' }])
  } finally {
    db.close()
  }
}

/** Sends `size` bytes, or while `stall` is set only the first `sent` and then holds the connection. */
async function startBodyServer (size: number, sent: number): Promise<{ url: string, body: Buffer, stall: boolean, close: () => Promise<void> }> {
  const body = randomBytes(size)
  const state = { url: '', body, stall: true, close: async () => {} }
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size })
    if (state.stall) res.write(body.subarray(0, sent))
    else res.end(body)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  state.close = () => new Promise(resolve => { server.closeAllConnections(); server.close(() => resolve()) })
  return state
}

const CLOSED = 'http://127.0.0.1:9/'
async function workspace (tag: string): Promise<Workspace> {
  const { workspace: ws } = await Workspace.init(join(makeTempDir(tag), 'ws'))
  for (const key of ['registry_url', 'node_mappings_url']) await ws.setConfig(key, CLOSED)
  return ws
}

let registry: RegistryServer
beforeAll(async () => {
  registry = await startRegistryServer([
    { id: 'needs-dep', versions: [{ version: '1.0.0', files: { '__init__.py': 'NODE_CLASS_MAPPINGS = {"DepNode": object}\n', 'requirements.txt': 'crashdep==1.0\n' } }] },
    { id: 'big-pack', versions: [{ version: '1.0.0', files: { '__init__.py': `NODE_CLASS_MAPPINGS = {"BigNode": object}\n# ${randomBytes(30_000).toString('base64')}\n` }, stallAfter: 2000 }] },
  ])
})
afterAll(async () => { await registry?.stop() })

describe('crash matrix: kill -9, then run again', () => {
  it('during a model index scan', async () => {
    const ws = await workspace('crash-scan')
    const dir = join(ws.modelsDir, 'loras')
    mkdirSync(dir, { recursive: true })
    for (let i = 0; i < 12000; i++) writeFileSync(join(dir, `m${i}.safetensors`), Buffer.alloc(4096, i % 251).fill(String(i), 0))
    const before = fingerprint(ws.modelsDir)
    await killDuring(['model', 'index', 'sync'], ws.root, line(/scan models: (25|50)%/))
    expectIndexSound(ws.root)
    const count = (): number => {
      const db = new Database(join(ws.root, '.metadata', 'models.db'), { readonly: true })
      try { return (db.prepare('SELECT COUNT(*) AS n FROM locations').get() as { n: number }).n } finally { db.close() }
    }
    expect(count()).toBeLessThan(12000) // killed part-way
    expect(fingerprint(ws.modelsDir)).toEqual(before)
    const again = await runCliAsync(['model', 'index', 'sync', '--json'], { workspace: ws.root })
    expect(again.code, again.stderr).toBe(0)
    expectIndexSound(ws.root)
    expect(count()).toBe(12000)
  })

  it('during a commit', async () => {
    const ws = await workspace('crash-commit')
    const env = envOnDisk(ws.root, 'e', `${PROJECT}\n[tool.comfydock]\nschema_version = 1\n`)
    const corpus = readdirSync(join(CORPUS, 'workflows')).filter(f => f.endsWith('.json'))
    for (let i = 0; i < 240; i++) copyFileSync(join(CORPUS, 'workflows', corpus[i % corpus.length]), join(env.userWorkflows, `wf-${i}.json`))
    await ws.setActive('e')
    expect((await runCliAsync(['workflow', 'track', '--all'], { workspace: ws.root })).code).toBe(0)
    const before = fingerprint(env.userWorkflows)
    // killed as the analysis ends: snapshots, pyproject.toml and the git commit are being written
    await killDuring(['commit', '-m', 'many', '--allow-issues'], ws.root, line(/Analysing workflows: done/))
    expectGitSound(env.cec)
    expect(fingerprint(env.userWorkflows)).toEqual(before)
    const again = await runCliAsync(['commit', '-m', 'many', '--allow-issues'], { workspace: ws.root })
    // the commit may have landed just before the kill: then there is nothing left to commit
    expect([0, 1], again.stderr).toContain(again.code)
    if (again.code === 1) expect(again.stderr).toContain('NOTHING_TO_COMMIT')
    expectGitSound(env.cec)
    const listed = await runCliAsync(['workflow', 'list', '--json'], { workspace: ws.root })
    expect(new Set(listed.json().workflows.map((w: { state: string }) => w.state))).toEqual(new Set(['synced']))
    expect(fingerprint(env.userWorkflows)).toEqual(before)
  })

  it('during a node add', async () => {
    const ws = await workspace('crash-node')
    await ws.setConfig('registry_url', registry.url)
    const env = envOnDisk(ws.root, 'e', `${PROJECT}\n[tool.comfydock]\nschema_version = 1\n`, {
      'ComfyUI/custom_nodes/my-own-node/__init__.py': 'NODE_CLASS_MAPPINGS = {}\n# my work\n',
      'ComfyUI/user/default/workflows/mine.json': '{"nodes": []}',
    })
    const pyproject = readFileSync(join(env.cec, 'pyproject.toml'), 'utf8')
    const before = { nodes: fingerprint(join(env.customNodes, 'my-own-node')), workflows: fingerprint(env.userWorkflows) }
    const served = registry.hits('/files/big-pack')
    await killDuring(['-e', 'e', 'node', 'add', 'big-pack', '--json'], ws.root, async () => until(() => registry.hits('/files/big-pack') > served))
    expectGitSound(env.cec)
    expect(readFileSync(join(env.cec, 'pyproject.toml'), 'utf8')).toBe(pyproject)
    expect(existsSync(join(env.customNodes, 'big-pack'))).toBe(false)

    registry.setStall('big-pack', undefined)
    const again = await runCliAsync(['-e', 'e', 'node', 'add', 'big-pack', '--json'], { workspace: ws.root })
    // the pack is added (its Python step may fail here without a venv: then nothing is kept, and it says so)
    const result = again.json().results[0]
    if (result.ok) expect(existsSync(join(env.customNodes, 'big-pack', '__init__.py'))).toBe(true)
    else expect(existsSync(join(env.customNodes, 'big-pack'))).toBe(false)
    expect(result.error?.message ?? '').not.toMatch(/already exists|locked|in use/)
    expectGitSound(env.cec)
    expect({ nodes: fingerprint(join(env.customNodes, 'my-own-node')), workflows: fingerprint(env.userWorkflows) }).toEqual(before)
  })

  it('during a model download', async () => {
    const ws = await workspace('crash-download')
    mkdirSync(join(ws.modelsDir, 'checkpoints'), { recursive: true })
    writeFileSync(join(ws.modelsDir, 'checkpoints', 'mine.safetensors'), 'my own model'.padEnd(4096, '.'))
    expect((await runCliAsync(['model', 'index', 'sync'], { workspace: ws.root })).code).toBe(0)
    const server = await startBodyServer(8 * 1024 * 1024, 4 * 1024 * 1024)
    try {
      const before = fingerprint(join(ws.modelsDir, 'checkpoints'))
      await killDuring(['model', 'download', `${server.url}/big.safetensors`, '--category', 'checkpoints'], ws.root, line(/big\.safetensors: 25%/))
      expectIndexSound(ws.root)
      expect(fingerprint(join(ws.modelsDir, 'checkpoints'))).toEqual(before)
      server.stall = false
      const again = await runCliAsync(['model', 'download', `${server.url}/big.safetensors`, '--category', 'checkpoints', '--json'], { workspace: ws.root })
      expect(again.code, again.stderr).toBe(0)
      expect(readFileSync(join(ws.modelsDir, 'checkpoints', 'big.safetensors')).equals(server.body)).toBe(true)
      expectIndexSound(ws.root)
      expect(fingerprint(join(ws.modelsDir, 'checkpoints'))).toMatchObject(before)
    } finally {
      await server.close()
    }
  })

  it('during an import, in its model download', async () => {
    const ws = await workspace('crash-import')
    const comfyui = await makeComfyuiRepo(join(ws.root, '..', 'comfyui-src'))
    await ws.setConfig('comfyui_source', comfyui.url)
    const server = await startBodyServer(8 * 1024 * 1024, 4 * 1024 * 1024)
    try {
      // the bundle names the model by its real hash: the rerun's download is checked against it
      const copy = join(ws.root, '..', 'big.bin')
      writeFileSync(copy, server.body)
      const hash = await shortHash(copy)
      const bundle = writeBundle(join(ws.root, '..', 'e.tar.gz'), {
        'manifest.json': JSON.stringify(bundleManifest('e', [])),
        'pyproject.toml': `${PROJECT}\n[tool.comfydock]\nschema_version = 1\ncomfyui_version = "v0.3.7"\ncomfyui_version_type = "release"\n\n` +
          `[tool.comfydock.models.${hash}]\nfilename = "big.safetensors"\nsize = ${8 * 1024 * 1024}\nrelative_path = "checkpoints/big.safetensors"\n` +
          `category = "checkpoints"\ncriticality = "required"\nsources = ["${server.url}/big.safetensors"]\n`,
      })
      mkdirSync(join(ws.modelsDir, 'checkpoints'), { recursive: true })
      writeFileSync(join(ws.modelsDir, 'checkpoints', 'mine.safetensors'), 'my own model'.padEnd(4096, '.'))
      const before = fingerprint(join(ws.modelsDir, 'checkpoints'))
      await killDuring(['import', bundle, '--yes', '--models', 'all'], ws.root, line(/big\.safetensors: 25%/))
      expectIndexSound(ws.root)
      expect(fingerprint(join(ws.modelsDir, 'checkpoints'))).toEqual(before)
      server.stall = false
      const again = await runCliAsync(['import', bundle, '--yes', '--models', 'all', '--json'], { workspace: ws.root })
      expect(again.code, again.stdout).toBe(0)
      expect(again.json().name).toBe('e')
      expectGitSound(join(ws.root, 'environments', 'e', '.cec'))
      expectIndexSound(ws.root)
      expect(readFileSync(join(ws.modelsDir, 'checkpoints', 'big.safetensors')).equals(server.body)).toBe(true)
      expect(fingerprint(join(ws.modelsDir, 'checkpoints'))).toMatchObject(before)
    } finally {
      await server.close()
    }
  }, 180_000)

  it('during a node add\'s Python install: the rerun undoes the half-made add, then completes', async () => {
    const ws = await workspace('crash-node-python')
    await ws.setConfig('registry_url', registry.url)
    const env = envOnDisk(ws.root, 'e', `${PROJECT}\n[tool.comfydock]\nschema_version = 1\n`)
    // a package index (find-links page) that holds every request while `stall` is set
    const wheels = join(ws.root, '..', 'wheels')
    const wheel = await buildWheel(wheels, { name: 'crashdep', version: '1.0' })
    const index = { stall: true, requests: 0 }
    const held: import('node:http').ServerResponse[] = []
    const server = createServer((req, res) => {
      index.requests++
      if (index.stall) { held.push(res); return }
      if (req.url?.endsWith('.whl')) { res.writeHead(200, { 'content-type': 'application/octet-stream' }); res.end(readFileSync(wheel)); return }
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end(`<html><body><a href="${basename(wheel)}">${basename(wheel)}</a></body></html>`)
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const config = join(ws.root, '..', 'uv.toml')
    writeFileSync(config, `no-index = true\nfind-links = ["http://127.0.0.1:${(server.address() as AddressInfo).port}/links/"]\n`)
    const uvEnv = { UV_CONFIG_FILE: config, PIP_NO_INDEX: '1' }
    try {
      await killDuring(['-e', 'e', 'node', 'add', 'needs-dep'], ws.root, async stderr => {
        await until(() => /resolve and install Python packages/.test(stderr()) && index.requests > 0)
      }, uvEnv)
      // killed with the pack recorded and in place, its Python packages not installed
      expect(readFileSync(join(env.cec, 'pyproject.toml'), 'utf8')).toContain('needs-dep')
      expectGitSound(env.cec)
      // the killed run's installer fails once the index lets go of it
      index.stall = false
      for (const res of held.splice(0)) res.destroy()
      const again = await runCliAsync(['-e', 'e', 'node', 'add', 'needs-dep', '--json'], { workspace: ws.root, env: uvEnv })
      expect(again.code, again.stdout + again.stderr).toBe(0)
      expect(again.stderr).toContain('undid an interrupted `node add needs-dep`')
      expect(again.json().results[0]).toMatchObject({ ok: true, id: 'needs-dep' })
      expect(existsSync(join(env.root, '.venv', 'lib'))).toBe(true)
      const site = readdirSync(join(env.root, '.venv', 'lib'))[0]
      expect(existsSync(join(env.root, '.venv', 'lib', site, 'site-packages', 'crashdep', '__init__.py'))).toBe(true)
      const after = await readManifest(join(env.cec, 'pyproject.toml'))
      expect(Object.keys(after.tool.comfydock.nodes ?? {})).toEqual(['needs-dep'])
      expect(Object.values(after['dependency-groups'] ?? {})).toEqual([['crashdep==1.0']])
      expectGitSound(env.cec)
    } finally {
      for (const res of held.splice(0)) res.destroy()
      server.closeAllConnections()
      server.close()
    }
  }, 120_000)
})
