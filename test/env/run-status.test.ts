import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { CLI, runCli } from '../support/cli'
import { RUN_RECORD, makeComfyuiRepo, type ComfyuiRepo } from '../support/comfyui-repo'
import { makeTempDir } from '../support/temp-dir'

let repo: ComfyuiRepo
let ws: string
let envRoot: string
const cli = (args: string[]) => runCli(args, { workspace: ws, env: repo.indexEnv })

function freePort (): Promise<number> {
  return new Promise(resolve => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port
      srv.close(() => resolve(port))
    })
  })
}

async function waitFor<T> (fn: () => Promise<T | undefined>, what: string, tries = 200): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await fn().catch(() => undefined)
    if (v !== undefined) return v
    await new Promise(r => setTimeout(r, 100))
  }
  throw new Error(`gave up waiting for ${what}`)
}

beforeAll(async () => {
  const dir = makeTempDir('run')
  repo = await makeComfyuiRepo(dir)
  ws = join(dir, 'ws')
  runCli(['init', ws])
  runCli(['config', 'comfyui_source', repo.url], { workspace: ws })
  const res = cli(['create', 'main'])
  expect(res.code, res.stderr).toBe(0)
  envRoot = join(ws, 'environments', 'main')
}, 120_000)

describe('comfydock run', () => {
  it("passes the arguments after -- to ComfyUI's main.py, run by the env's venv Python from ComfyUI/", () => {
    const res = cli(['run', '--', '--quick-test-for-ci', '--port', '9999', '--foo', 'bar'])
    expect(res.code, res.stderr).toBe(0)
    const record = JSON.parse(readFileSync(join(envRoot, 'ComfyUI', RUN_RECORD), 'utf8'))
    expect(record.argv).toEqual(['--quick-test-for-ci', '--port', '9999', '--foo', 'bar'])
    expect(record.cwd).toBe(join(envRoot, 'ComfyUI'))
    expect(record.prefix).toBe(join(envRoot, '.venv'))
    expect(record.packages).toEqual({ 'comfy-dep-a': '1.1', 'comfy-dep-b': '2.0' })
    expect(record.extra_model_paths).toBe(true)
  })

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`serves /api/object_info until ${signal} stops ComfyUI cleanly`, async () => {
      const port = await freePort()
      const child = spawn(process.execPath, [CLI, '--workspace', ws, 'run', '--', '--port', String(port)], { stdio: 'ignore', env: { ...process.env, NO_COLOR: '1' } })
      const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)))
      const info = await waitFor(async () => {
        const res = await fetch(`http://127.0.0.1:${port}/api/object_info`)
        return res.ok ? await res.json() as Record<string, unknown> : undefined
      }, 'object_info')
      expect(Object.keys(info)).toContain('KSampler')
      child.kill(signal)
      expect(await exited).toBe(0)
      const stopped = JSON.parse(readFileSync(join(envRoot, 'ComfyUI', 'user', 'comfyui-stopped.json'), 'utf8'))
      expect(stopped.signal).toBe(signal === 'SIGINT' ? 2 : 15)
      await expect(fetch(`http://127.0.0.1:${port}/api/object_info`)).rejects.toThrow()
    })
  }

  it('refuses an environment whose create did not finish, with a hint', () => {
    const marker = join(envRoot, '.cec', '.complete')
    renameSync(marker, marker + '.off')
    try {
      const res = cli(['run'])
      expect(res.code).toBe(1)
      expect(res.stderr).toContain('error[ENV_INCOMPLETE]')
      expect(res.stderr).toContain('hint: Delete it with `comfydock delete main`')
    } finally {
      renameSync(marker + '.off', marker)
    }
  })
})

describe('comfydock status', () => {
  it('--json reports a clean environment whose ComfyUI and Python packages match the manifest', () => {
    const installer = JSON.parse(readFileSync(join(envRoot, '.cec', 'local.json'), 'utf8')).installer
    expect(['uv', 'pip']).toContain(installer)
    const res = cli(['status', '--json'])
    expect(res.code, res.stderr).toBe(0)
    expect(res.json()).toMatchObject({
      name: 'main', active: true, complete: true, ok: true,
      sections: { git: { ok: true, changes: [] }, comfyui: { ok: true, actual: repo.tags['v0.3.7'] }, python: { ok: true, backend: installer, pending: [] } },
    })
  })

  it('also reports node packs, workflows and what `repair` would fix', () => {
    const userWorkflows = join(envRoot, 'ComfyUI', 'user', 'default', 'workflows')
    const file = join(userWorkflows, 'draft.json')
    writeFileSync(file, JSON.stringify({ version: 0.4, links: [], nodes: [{ id: 1, type: 'CheckpointLoaderSimple', widgets_values: ['absent.safetensors'] }] }))
    try {
      const s = cli(['status', '--json']).json()
      expect(Object.keys(s.sections)).toEqual(['git', 'comfyui', 'python', 'nodes', 'workflows', 'repair'])
      expect(s.sections.workflows).toMatchObject({ ok: false, workflows: [{ name: 'draft', tracked: false }] })
      expect(s.sections.workflows.details[0]).toContain('comfydock workflow track draft')
      expect(s.sections.repair).toMatchObject({ ok: true })
    } finally {
      rmSync(file)
    }
  })

  it('shows an uncommitted manifest change and the packages the venv lacks for it', () => {
    const file = join(envRoot, '.cec', 'pyproject.toml')
    const before = readFileSync(file, 'utf8')
    writeFileSync(file, before.replace('"comfy-dep-a>=1.1"', '"comfy-dep-a==1.0"'))
    try {
      const res = cli(['status', '--json'])
      expect(res.code, res.stderr).toBe(0)
      const s = res.json()
      expect(s.ok).toBe(false)
      expect(s.sections.git).toMatchObject({ ok: false, changes: [{ status: 'M', path: 'pyproject.toml' }] })
      expect(s.sections.python).toMatchObject({ ok: false, pending: ['comfy-dep-a==1.0'] })
      const human = cli(['status'])
      expect(human.stdout).toMatch(/git\s+!!\s+1 uncommitted change in \.cec/)
      expect(human.stdout).toContain('needs comfy-dep-a==1.0')
      expect(human.stdout).toContain('comfydock commit -m')
    } finally {
      writeFileSync(file, before)
    }
    expect(existsSync(file)).toBe(true)
  })

  /** The files (URLs or paths) a CLI run loads. */
  function modulesLoaded (args: string[]): string[] {
    const out = join(makeTempDir('modules'), 'loaded.txt')
    const recorder = join(import.meta.dirname, '..', 'support', 'record-modules.mjs')
    const res = spawnSync(process.execPath, ['--import', recorder, CLI, '--workspace', ws, ...args], {
      env: { ...process.env, ...repo.indexEnv, NO_COLOR: '1', COMFYDOCK_RECORD_MODULES: out }, encoding: 'utf8',
    })
    expect(res.status, res.stderr).toBe(0)
    return readFileSync(out, 'utf8').split('\n').map(l => decodeURIComponent(l)).filter(Boolean)
  }

  /** The packages (node_modules names) a CLI run loads. */
  function packagesLoaded (args: string[]): string[] {
    const names = modulesLoaded(args).map(l => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(l)?.[1])
    return [...new Set(names.filter((n): n is string => Boolean(n)))].sort()
  }

  /** Our source files a CLI run loads: esbuild heads each one's code in a chunk with a `// <path>` line. */
  function sourcesLoaded (args: string[]): string[] {
    const chunks = modulesLoaded(args).filter(l => l.startsWith('file:') && !l.includes('/node_modules/')).map(l => fileURLToPath(l))
    return [...new Set(chunks.flatMap(f => [...readFileSync(f, 'utf8').matchAll(/^\/\/ (sidecar\/\S+\.ts)$/gm)].map(m => m[1])))].sort()
  }

  // status answers often (the panel, scripts, prompts): it loads what it reads with, and no installer,
  // archive, database, YAML, server, prompt, progress-bar, hashing or S3-signing package.
  it('loads no package it does not use: --help only commander, status no archive, database or server code', () => {
    expect(packagesLoaded(['--help'])).toEqual(['commander'])
    const status = packagesLoaded(['status', '--json'])
    for (const heavy of ['better-sqlite3', 'yauzl', 'yaml', 'tar', 'hono', '@hono/node-server', 'ws', '@inquirer/prompts', 'cli-progress', '@napi-rs/blake-hash', 'aws4']) {
      expect(status).not.toContain(heavy)
    }
  })

  // the layers' barrels re-export their whole layer: status imports the files it reads with, so the
  // chunks it loads hold no download, install, model-store or installer code
  it('status loads none of our download, install, model-store or installer code', () => {
    const sources = sourcesLoaded(['status', '--json'])
    expect(sources).toContain('sidecar/env/status.ts')
    for (const heavy of ['sidecar/net/download-file.ts', 'sidecar/models/download-model.ts', 'sidecar/models/store/s3-client.ts', 'sidecar/models/scan.ts',
      'sidecar/nodes/operations/add-nodes.ts', 'sidecar/nodes/archive/safe-extract-zip.ts', 'sidecar/env/repair.ts', 'sidecar/python/pip.ts', 'sidecar/python/uv.ts']) {
      expect(sources).not.toContain(heavy)
    }
  })
})
