/**
 * Teams (issue 15), on loopback against real engines: a model fetched from the team's store (SeaweedFS's
 * S3 gateway) by the path import/repair/clone/pull take (signed GET, BLAKE3 + SHA-256 while
 * downloading, verified, indexed) against curl of the same object; four models at once against one
 * after another; and `pull` with nothing new against `git pull` of the same repository over the same
 * git HTTP server. Prints ratios; asserts nothing.
 * COMFYDOCK_BENCH_STORE_MIB sets the single object's size (default 256), COMFYDOCK_BENCH_ONLY=store,parallel,pull picks sections.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { downloadModelNeeds, type ModelNeed } from '../sidecar/env'
import { openGit } from '../sidecar/git'
import { writeManifest } from '../sidecar/manifest'
import { claimSource, hostContext, MODEL_SETTINGS, ModelIndex } from '../sidecar/models'
import { pullEnvironment } from '../sidecar/remote'
import { Workspace } from '../sidecar/workspace'
import { startGitHttpBackend } from '../test/support/git-http-server'
import { S3_KEYS, startS3Server, type S3Server } from '../test/support/s3-server'
import { interleavedMedians, median, printRows, printValue, type Row } from './report'

const MiB = 1024 * 1024
const has = (cmd: string): boolean => spawnSync('which', [cmd]).status === 0
const run = (cmd: string, args: string[], cwd?: string): void => { execFileSync(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'inherit'] }) }
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')
/** A child process that does not block this one: the git server answering it lives in this process. */
const runAsync = (cmd: string, args: string[], cwd?: string): Promise<void> => new Promise((resolve, reject) => {
  const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'inherit'] })
  child.on('error', reject)
  child.on('close', code => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}`))))
})

/**
 * CPU time (ms) from /proc: of process `pid`, or with `children` of the children this process has
 * waited for (curl). Ticks of 10 ms (USER_HZ 100); undefined off Linux.
 */
function procCpuMs (pid: number | 'self', children = false): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ') // f[0] is field 3, so utime (14) is f[11]
    return (children ? Number(f[13]) + Number(f[14]) : Number(f[11]) + Number(f[12])) * 10
  } catch {
    return undefined
  }
}
const ownCpuMs = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000 }

/** Wraps `fn` to add the CPU it took (`cpu()` before and after) and the S3 server's meanwhile to the lists. */
function withCpu (fn: () => Promise<void> | void, cpu: () => number | undefined, mine: number[], server: number[]): () => Promise<void> {
  return async () => {
    const pid = s3?.pid
    const c0 = cpu(); const s0 = pid ? procCpuMs(pid) : undefined
    await fn()
    const c1 = cpu(); const s1 = pid ? procCpuMs(pid) : undefined
    if (c0 !== undefined && c1 !== undefined) mine.push(c1 - c0)
    if (s0 !== undefined && s1 !== undefined) server.push(s1 - s0)
  }
}
const mid = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const dir = mkdtempSync(join(tmpdir(), 'comfydock-bench-teams-'))
let s3: S3Server | undefined
let n = 0

/** A fresh workspace with the store configured: nothing indexed, so every fetch downloads. */
async function freshWorkspace (transfers: number): Promise<Workspace> {
  const { workspace: ws } = await Workspace.init(join(dir, `ws-${++n}`))
  const settings: Record<string, string> = { model_store: 's3://team/models', s3_endpoint: s3!.endpoint, s3_access_key_id: S3_KEYS.accessKeyId, s3_secret_access_key: S3_KEYS.secretAccessKey, model_transfers: String(transfers) }
  for (const [k, v] of Object.entries(settings)) await ws.setConfig(k, v, MODEL_SETTINGS)
  return ws
}

async function putObject (s: S3Server, bytes: number): Promise<{ sha256: string, size: number }> {
  const data = randomBytes(bytes)
  const sha256 = sha(data)
  await s.putRaw('team', `models/${sha256}`, data)
  return { sha256, size: bytes }
}

const needOf = (o: { sha256: string, size: number }, i: number): ModelNeed => ({
  key: o.sha256, sha256: o.sha256, filename: `m${i}.safetensors`, relativePath: `checkpoints/m${i}.safetensors`, category: 'checkpoints',
  size: o.size, criticality: 'required', workflows: [], sources: [`s3://team/models/${o.sha256}`], present: false,
})

/** Workspaces made (index created) before any timing: a run measures the fetch, not the setup. */
const ready: Workspace[][] = [[], [], [], [], []]
async function prepare (transfers: number, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const ws = await freshWorkspace(transfers)
    ModelIndex.open(ws).close()
    ready[transfers].push(ws)
  }
}

/**
 * What the last run wrote, removed (untimed) before the next: files that stay pile up as dirty pages,
 * and once about 1 GiB waits for writeback every write on this VM costs about three times the kernel
 * time, so a side that keeps its files would be timed against one that deletes them.
 */
const leftovers: string[] = []
const clean = (): void => { for (const p of leftovers.splice(0)) rmSync(p, { recursive: true, force: true }) }

async function fetchAll (needs: ModelNeed[], transfers: number): Promise<void> {
  const ws = ready[transfers].shift()
  if (!ws) throw new Error('bench: no prepared workspace left')
  leftovers.push(ws.root)
  const out = await downloadModelNeeds(ws, needs.map(x => ({ ...x, sources: [...x.sources] })))
  if (out.failed.length) throw new Error(`store fetch failed: ${JSON.stringify(out.failed)}`)
}

async function store (s: S3Server): Promise<void> {
  if (!has('curl')) { console.log('  (curl not installed: no store row)'); return }
  const mib = Number(process.env.COMFYDOCK_BENCH_STORE_MIB ?? 256)
  const obj = await putObject(s, mib * MiB)
  // curl fetches the very URL our downloader gets: the store host's signed GET of the same object
  const ws = await freshWorkspace(1)
  const ctx = await hostContext(ws)
  const url = (await claimSource(`s3://team/models/${obj.sha256}`, ctx).plan(ctx)).downloadUrl
  const dest = join(dir, 'curl.bin')
  const ours = (): Promise<void> => fetchAll([needOf(obj, 0)], 1)
  const curlOnly = (): void => { leftovers.push(dest); run('curl', ['-sf', '-o', dest, url]) }
  const curlHashed = (): void => { leftovers.push(dest); run('curl', ['-sf', '-o', dest, url]); run('openssl', ['dgst', '-sha256', dest]) }
  await prepare(1, 6)
  await ours(); clean(); curlOnly(); clean() // warm-up
  const cpu = { ours: [] as number[], curl: [] as number[], serverOurs: [] as number[], serverCurl: [] as number[] }
  const [oursMs, curlMs, curlHashedMs] = await interleavedMedians(5, [
    withCpu(ours, ownCpuMs, cpu.ours, cpu.serverOurs),
    withCpu(curlOnly, () => procCpuMs('self', true), cpu.curl, cpu.serverCurl),
    curlHashed,
  ], clean)
  clean()
  printRows(`model from the team's store, ${mib} MiB over loopback S3 (ms, lower is better)`, [
    { name: 'store fetch: signed GET, BLAKE3+SHA-256, verify, index', ours: oursMs, reference: curlMs, referenceName: 'curl -o (no hash)', goal: '>= 0.9x' },
    { name: 'store fetch: signed GET, BLAKE3+SHA-256, verify, index', ours: oursMs, reference: curlHashedMs, referenceName: 'curl -o; openssl sha256' },
  ])
  if (cpu.ours.length && cpu.curl.length && cpu.serverOurs.length && cpu.serverCurl.length) {
    // On loopback the two cores, not a link, are the limit: with them busy, time follows CPU time.
    const [o, c, so, sc] = [mid(cpu.ours), mid(cpu.curl), mid(cpu.serverOurs), mid(cpu.serverCurl)]
    printRows('CPU time of the same fetches, all threads (ms, lower is better)', [
      { name: 'this side (ours: HTTP, both hashes, writes)', ours: o, reference: c, referenceName: 'curl -o' },
      { name: 'the S3 server meanwhile', ours: so, reference: sc, referenceName: 'while curl -o' },
    ])
    // what the time ratio tends to when the two cores, shared with the server, are the limit
    console.log(`  ${'CPU ratio (curl + server) / (ours + server)'.padEnd(44)} ${((c + sc) / (o + so)).toFixed(2)}x`)
  }
}

async function parallel (s: S3Server): Promise<void> {
  const objs = await Promise.all([0, 1, 2, 3].map(() => putObject(s, 64 * MiB)))
  const needs = objs.map(needOf)
  await prepare(4, 5)
  await prepare(1, 5)
  const rows: Row[] = []
  const fns: Array<() => Promise<void> | void> = [() => fetchAll(needs, 4), () => fetchAll(needs, 1)]
  if (has('curl')) {
    // The machine's own ceiling: curl, which uses next to no CPU, on the same four signed URLs.
    const ws = await freshWorkspace(1)
    const ctx = await hostContext(ws)
    const urls = await Promise.all(objs.map(async o => (await claimSource(`s3://team/models/${o.sha256}`, ctx).plan(ctx)).downloadUrl))
    const dest = (i: number): string => join(dir, `curl-${i}.bin`)
    fns.push(
      async () => { urls.forEach((_, i) => leftovers.push(dest(i))); await Promise.all(urls.map((u, i) => runAsync('curl', ['-sf', '-o', dest(i), u]))) },
      () => { urls.forEach((u, i) => { leftovers.push(dest(i)); run('curl', ['-sf', '-o', dest(i), u]) }) },
    )
  }
  const [four, one, curlFour, curlOne] = await interleavedMedians(5, fns, clean)
  clean()
  rows.push({ name: 'model_transfers 4 (at once)', ours: four, reference: one, referenceName: 'model_transfers 1', goal: '>= 1.5x' })
  if (curlFour !== undefined) rows.push({ name: 'curl: 4 at once (ceiling of this machine)', ours: curlFour, reference: curlOne, referenceName: 'curl one after another' })
  printRows('4 models of 64 MiB from the store (ms, lower is better)', rows)
}

async function pullNoChange (): Promise<void> {
  const server = await startGitHttpBackend(join(dir, 'git'))
  try {
    const url = server.createRepo('env')
    const { workspace: ws } = await Workspace.init(join(dir, 'ws-pull'))
    const env = ws.env('team')
    mkdirSync(env.cecWorkflows, { recursive: true })
    await writeManifest(env.pyproject, { project: { name: 'comfydock-env-team', version: '0.1.0', dependencies: [] }, tool: { comfydock: { schema_version: 1 } } })
    writeFileSync(join(env.cec, '.gitignore'), 'local.json\n')
    const git = openGit(env.cec)
    await git.init()
    await git.commit('Initial environment setup')
    await git.remoteAdd('origin', url, { allowLocal: false })
    await git.push('origin', ['HEAD:refs/heads/main'], { policy: { allowLocal: false } })
    const plain = join(dir, 'plain-clone')
    await runAsync('git', ['clone', '-q', url, plain])
    const rows: Row[] = []
    const inProcess = await median(7, async () => { const r = await pullEnvironment(ws, env); if (r.preview.kind !== 'up-to-date') throw new Error(r.preview.kind) })
    const gitPull = await median(7, () => runAsync('git', ['pull', '-q', '--ff-only'], plain))
    rows.push({ name: 'pull, nothing new (in process)', ours: inProcess, reference: gitPull, referenceName: 'git pull --ff-only' })
    const cli = resolve('dist', 'cli.js')
    if (existsSync(cli)) {
      const cliMs = await median(5, () => runAsync(process.execPath, [cli, '--workspace', ws.root, '-e', 'team', 'pull', '--yes']))
      rows.push({ name: 'comfydock pull, nothing new (whole process)', ours: cliMs, reference: gitPull, referenceName: 'git pull --ff-only' })
      printRows('pull with no changes over the loopback git HTTP server (ms, lower is better)', rows)
      printValue('comfydock pull, nothing new (whole process)', cliMs, 'ms', '< 500 ms')
    } else {
      printRows('pull with no changes over the loopback git HTTP server (ms, lower is better)', rows)
      console.log('  (dist/cli.js not built: run `npm run build` for the whole-process row)')
    }
  } finally {
    await server.close()
  }
}

try {
  const only = process.env.COMFYDOCK_BENCH_ONLY?.split(',')
  const want = (s: string): boolean => !only || only.includes(s)
  if (want('store') || want('parallel')) {
    s3 = await startS3Server(join(dir, 's3'))
    await s3.createBucket('team')
    if (want('store')) await store(s3)
    if (want('parallel')) await parallel(s3)
  }
  if (want('pull')) await pullNoChange()
} finally {
  await s3?.stop()
  rmSync(dir, { recursive: true, force: true })
}
