/**
 * Sidecar benches. (1) Start: startSidecar() until it answers its first request, against a bare
 * node:http server doing the same. (2) Commit from the browser: a workflows.commit request with 10
 * open workflows (and, as the panel sends them, a real ComfyUI's object_info and model lists) until
 * the git commit exists, against plain `git add` + `git commit` of the same 10 files (the floor any
 * commit pays). Printed, never asserted.
 */
import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import { resolve as resolvePath } from 'node:path'
import type { AddressInfo } from 'node:net'
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { WebSocket } from 'ws'
import { openGit } from '../sidecar/git'
import { run } from '../sidecar/exec'
import { PROTOCOL_VERSION } from '../sidecar/protocol'
import { startSidecar } from '../sidecar/server'
import { Workspace } from '../sidecar/workspace'
import { median, printRows, printValue, type Row } from './report'

const FIXTURES = resolvePath('test', 'workflows', 'fixtures')
const PYPROJECT = '[project]\nname = "bench"\nversion = "0.1.0"\nrequires-python = ">=3.11"\ndependencies = []\n\n[tool.comfydock]\nschema_version = 1\ncomfyui_version = "v0.3.7"\n'

function workflow (i: number, rev: number): Record<string, unknown> {
  return {
    last_node_id: 3,
    last_link_id: 0,
    nodes: [
      { id: 1, type: 'CheckpointLoaderSimple', pos: [0, 0], size: [300, 100], flags: {}, order: 0, mode: 0, inputs: [], outputs: [], properties: {}, widgets_values: [`sd15/model_${i}.safetensors`] },
      { id: 2, type: 'KSampler', pos: [400, 0], size: [300, 200], flags: {}, order: 1, mode: 0, inputs: [], outputs: [], properties: {}, widgets_values: [rev, 'fixed', 20, 7, 'euler', 'normal', 1] },
      { id: 3, type: 'SaveImage', pos: [800, 0], size: [300, 100], flags: {}, order: 2, mode: 0, inputs: [], outputs: [], properties: {}, widgets_values: ['out'] },
    ],
    links: [],
    groups: [],
    config: {},
    extra: {},
    version: 0.4,
  }
}

async function makeWorkspace (): Promise<{ root: string, cec: string }> {
  const root = await mkdtemp(join(tmpdir(), 'cfd-bench-srv-'))
  const { workspace } = await Workspace.init(join(root, 'ws'))
  const env = workspace.env('bench')
  await mkdir(env.cecWorkflows, { recursive: true })
  await writeFile(env.pyproject, PYPROJECT)
  await writeFile(env.completeMarker, '')
  await openGit(env.cec).init()
  await openGit(env.cec).commit('Initial environment setup')
  await workspace.setActive('bench')
  return { root: workspace.root, cec: env.cec }
}

function rpc (ws: WebSocket, method: string, params: unknown): Promise<any> {
  const id = Math.random().toString(36).slice(2)
  return new Promise((resolve, reject) => {
    const onMessage = (data: unknown): void => {
      const frame = JSON.parse(String(data))
      if (frame.type !== 'response' || frame.id !== id) return
      ws.off('message', onMessage)
      if (frame.ok) resolve(frame.result)
      else reject(new Error(`${frame.error.code}: ${frame.error.message}`))
    }
    ws.on('message', onMessage)
    ws.send(JSON.stringify({ v: PROTOCOL_VERSION, id, method, params }))
  })
}

async function benchStart (root: string): Promise<Row> {
  const ours = await median(15, async () => {
    const s = await startSidecar({ workspaceRoot: root })
    const res = await fetch(`${s.url}/health`, { headers: { authorization: `Bearer ${s.token}` } })
    await res.arrayBuffer()
    await s.close()
  })
  const reference = await median(15, async () => {
    const server = createServer((_req, res) => res.end('{}'))
    await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)
    await res.arrayBuffer()
    server.closeAllConnections()
    await new Promise(r => server.close(r))
  })
  return { name: 'sidecar start + first answer', ours, reference, referenceName: 'bare node:http', goal: '< 300 ms' }
}

/** Time until a spawned process prints its first stdout line. */
function firstLine (args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] })
    child.stdout.once('data', () => { child.kill('SIGTERM'); resolve() })
    child.once('error', reject)
  })
}

async function benchServeProcess (root: string): Promise<Row> {
  const cli = resolvePath('dist', 'cli.js')
  const ours = await median(7, () => firstLine([cli, '--workspace', root, 'serve', '--json']))
  const reference = await median(7, () => firstLine(['-e', "require('http').createServer().listen(0, '127.0.0.1', () => console.log('up'))"]))
  return { name: '`comfydock serve` process until it prints url', ours, reference, referenceName: 'node -e http.listen', goal: '< 300 ms' }
}

async function benchCommit (root: string, cec: string): Promise<Row | null> {
  const s = await startSidecar({ workspaceRoot: root })
  const ws = new WebSocket(`${s.wsUrl}?token=${s.token}`)
  await new Promise(r => ws.once('open', r))
  try {
    const hello = await rpc(ws, 'server.hello', {})
    if (!hello.methods.includes('workflows.commit')) {
      console.log('  commit of 10 browser workflows: skipped (this build has no workflows.commit)')
      return null
    }
    // what the panel sends once per page: the browser's /api/object_info and /api/models lists
    const objectInfo = JSON.parse(await readFile(join(FIXTURES, 'object_info-v0.3.7.json'), 'utf8'))
    const models = JSON.parse(await readFile(join(FIXTURES, 'models-v0.3.7.json'), 'utf8'))
    const modelLists = Object.fromEntries((models.folders as string[]).map(f => [f, models[f] ?? []]))
    await rpc(ws, 'session.context', { objectInfo: { hash: 'bench', value: objectInfo }, modelLists: { hash: 'bench', value: modelLists } })
    let rev = 0
    const ours = await median(9, async () => {
      rev++
      const workflows = Array.from({ length: 10 }, (_, i) => ({ name: `wf_${i}`, json: workflow(i, rev) }))
      await rpc(ws, 'workflows.commit', { message: `rev ${rev}`, workflows, allowIssues: true })
    })
    const plain = join(cec, '..', 'plain-git')
    await mkdir(plain, { recursive: true })
    await run('git', ['-C', plain, 'init', '-q'])
    const reference = await median(9, async () => {
      rev++
      for (let i = 0; i < 10; i++) await writeFile(join(plain, `wf_${i}.json`), JSON.stringify(workflow(i, rev), null, 2))
      await run('git', ['-C', plain, 'add', '-A'])
      await run('git', ['-C', plain, '-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-q', '-m', `rev ${rev}`])
    })
    return { name: 'commit 10 browser workflows (request → git)', ours, reference, referenceName: 'git add + commit', goal: '< 150 ms median' }
  } finally {
    ws.close()
    await s.close()
  }
}

const { root, cec } = await makeWorkspace()
try {
  const rows: Row[] = [await benchStart(root), await benchServeProcess(root)]
  const commit = await benchCommit(root, cec)
  if (commit) rows.push(commit)
  printRows('sidecar (median ms; ratio = reference / ours)', rows)
  for (const r of rows) printValue(`${r.name} (absolute)`, r.ours, 'ms', r.goal)
} finally {
  await rm(join(root, '..'), { recursive: true, force: true })
}
