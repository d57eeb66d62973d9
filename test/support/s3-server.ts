/**
 * A real S3-compatible server on loopback: SeaweedFS (`weed server -s3`, master + volume + filer + S3
 * gateway in one process) with SigV4 authentication, one identity. `.ci/run` installs the pinned build
 * (scripts/install-seaweedfs.sh); `COMFYDOCK_WEED` points at another binary. Nothing here is a mock.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import aws4 from 'aws4'

export const S3_KEYS = { accessKeyId: 'teamkey', secretAccessKey: 'team-secret-key-0123456789' }

export interface S3Server {
  /** `http://127.0.0.1:<port>` */
  endpoint: string
  /** The `weed` process (benches read its CPU time). */
  pid?: number
  createBucket (name: string): Promise<void>
  /** Writes an object straight into the store (bypassing comfydock), e.g. a corrupted one. */
  putRaw (bucket: string, key: string, data: Buffer): Promise<void>
  /** Whether an object exists, and its size. */
  headRaw (bucket: string, key: string): Promise<number | undefined>
  stop (): Promise<void>
}

export function weedBinary (): string {
  return process.env.COMFYDOCK_WEED ?? 'weed'
}

async function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
    s.on('error', reject)
  })
}

async function signedFetch (endpoint: string, method: string, path: string, body?: Buffer): Promise<Response> {
  const host = new URL(endpoint).host
  const headers = { 'x-amz-content-sha256': createHash('sha256').update(body ?? '').digest('hex') }
  const signed = aws4.sign({ host, path, method, headers, service: 's3', region: 'us-east-1' }, S3_KEYS)
  return fetch(`${endpoint}${signed.path}`, { method, headers: signed.headers as Record<string, string>, body: body ? new Uint8Array(body) : undefined })
}

export async function startS3Server (dir: string): Promise<S3Server> {
  mkdirSync(join(dir, 'data'), { recursive: true })
  const config = join(dir, 's3.json')
  writeFileSync(config, JSON.stringify({
    identities: [{ name: 'team', credentials: [{ accessKey: S3_KEYS.accessKeyId, secretKey: S3_KEYS.secretAccessKey }], actions: ['Admin', 'Read', 'List', 'Tagging', 'Write'] }],
  }))
  const p = await Promise.all(Array.from({ length: 8 }, freePort))
  const args = [
    'server', `-dir=${join(dir, 'data')}`, '-ip=127.0.0.1', '-ip.bind=127.0.0.1', '-master.telemetry=false',
    `-master.port=${p[0]}`, `-master.port.grpc=${p[1]}`, '-master.volumeSizeLimitMB=256', '-volume.max=64',
    `-volume.port=${p[2]}`, `-volume.port.grpc=${p[3]}`,
    '-filer', `-filer.port=${p[4]}`, `-filer.port.grpc=${p[5]}`,
    '-s3', `-s3.port=${p[6]}`, `-s3.port.grpc=${p[7]}`, '-s3.port.iceberg=0', '-s3.port.lance=0', `-s3.config=${config}`,
  ]
  const log: string[] = []
  const child: ChildProcess = spawn(weedBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] })
  const keep = (c: Buffer): void => { log.push(c.toString('utf8')); if (log.length > 200) log.shift() }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  const spawnError = new Promise<never>((_, reject) => child.once('error', err => reject(new Error(
    `cannot start SeaweedFS (${weedBinary()}): ${err.message}. Install it with scripts/install-seaweedfs.sh (.ci/run does), or set COMFYDOCK_WEED.`,
  ))))
  const endpoint = `http://127.0.0.1:${p[6]}`
  const stop = (): Promise<void> => new Promise(resolve => {
    if (child.exitCode !== null || child.signalCode !== null) { resolve(); return }
    // weed shuts down gracefully and slowly; tests need the ports and CPU back, not a clean shutdown.
    child.once('exit', () => resolve())
    child.kill('SIGKILL')
  })
  const ready = (async () => {
    for (let i = 0; i < 600; i++) {
      if (child.exitCode !== null) throw new Error(`SeaweedFS exited (${child.exitCode}):\n${log.join('').slice(-3000)}`)
      // Ready once the gateway answers a signed ListBuckets (the filer behind it is up).
      const res = await signedFetch(endpoint, 'GET', '/').catch(() => undefined)
      if (res?.status === 200) return
      await res?.arrayBuffer()
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    throw new Error(`SeaweedFS did not become ready within 60 s:\n${log.join('').slice(-3000)}`)
  })()
  try {
    await Promise.race([ready, spawnError])
  } catch (err) {
    await stop()
    throw err
  }
  return {
    endpoint,
    pid: child.pid,
    async createBucket (name) {
      const res = await signedFetch(endpoint, 'PUT', `/${name}`)
      if (res.status !== 200) throw new Error(`create bucket ${name}: HTTP ${res.status} ${await res.text()}`)
    },
    async putRaw (bucket, key, data) {
      const res = await signedFetch(endpoint, 'PUT', `/${bucket}/${key}`, data)
      if (res.status !== 200) throw new Error(`put ${key}: HTTP ${res.status} ${await res.text()}`)
    },
    async headRaw (bucket, key) {
      const res = await signedFetch(endpoint, 'HEAD', `/${bucket}/${key}`)
      return res.status === 200 ? Number(res.headers.get('content-length')) : undefined
    },
    stop,
  }
}
