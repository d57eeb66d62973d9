/**
 * A loopback HTTP server for download tests. It serves real bytes with Range support and can be told
 * to misbehave per path, one request at a time (drop the connection mid-body, announce a wrong
 * Content-Length, corrupt the body, answer an error status). Like a real static server it sends an
 * ETag and honours If-Range. It also speaks the shapes of the
 * services we download from: Hugging Face `/<repo>/resolve/<rev>/<file>` (redirecting to a CDN, as
 * the real one does) and CivitAI `/api/download/models/<id>` + `/api/v1/model-versions/...`.
 */
import { createHash } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export type Fault =
  | { drop: number } // send this many body bytes, then cut the connection
  | { wrongLength: number } // announce this many extra bytes, send the real body, close
  | { corrupt: true } // flip bytes in the middle of the body
  | { status: number } // answer with this status and no body
  | { ignoreRange: true } // answer 200 with the whole body even when a Range was asked

export interface RecordedRequest {
  method: string
  path: string
  headers: IncomingHttpHeaders
}

interface Served {
  data: Buffer
  headers?: Record<string, string>
  /** Needs `Authorization: Bearer <token>`. */
  token?: string
}

export interface FileServer {
  url: string
  requests: RecordedRequest[]
  /** Serves `data` at `path` (starting with /). */
  file: (path: string, data: Buffer | string, opts?: { headers?: Record<string, string>, token?: string }) => void
  /** Answers `path` with JSON. */
  json: (path: string, value: unknown) => void
  /** Redirects `path` to `target` (absolute URL or path) with `status`. */
  redirect: (path: string, target: string, status?: number) => void
  /** Queues faults for the next requests to `path`; each request takes one. */
  faults: (path: string, ...faults: Fault[]) => void
  /**
   * Hugging Face-like: `/<repo>/resolve/<rev>/<file>` redirects to `cdn` (another server) with
   * `X-Linked-Etag: "<sha256>"` as the real one does for LFS files (`etag` overrides it), or serves itself.
   */
  huggingface: (repo: string, rev: string, file: string, data: Buffer | string, opts?: { cdn?: FileServer, token?: string, etag?: string }) => string
  /** CivitAI-like: `/api/download/models/<id>` redirects to a CDN path that sends Content-Disposition. */
  civitai: (versionId: number, fileName: string, data: Buffer | string, opts?: { token?: string, cdn?: FileServer, meta?: Record<string, unknown> }) => string
  close: () => Promise<void>
}

export async function startFileServer (): Promise<FileServer> {
  const files = new Map<string, Served>()
  const jsons = new Map<string, unknown>()
  const redirects = new Map<string, { target: string, status: number, headers?: Record<string, string> }>()
  const faultQueue = new Map<string, Fault[]>()
  const requests: RecordedRequest[] = []

  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
    requests.push({ method: req.method ?? 'GET', path, headers: req.headers })
    const fault = faultQueue.get(path)?.shift()
    if (fault && 'status' in fault) { res.writeHead(fault.status).end(); return }
    const red = redirects.get(path)
    if (red) { res.writeHead(red.status, { location: red.target, ...red.headers }).end(); return }
    if (jsons.has(path)) { res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jsons.get(path))); return }
    const f = files.get(path)
    if (!f) { res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}'); return }
    if (f.token && req.headers.authorization !== `Bearer ${f.token}`) { res.writeHead(401).end('{"error":"unauthorized"}'); return }
    // If-Range as real servers read it: a validator that is not the current ETag means "send it all"
    const current = etagOf(f)
    const range = req.headers['if-range'] && req.headers['if-range'] !== current ? undefined : req.headers.range
    serveBytes(res, f, range, fault)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  const self: FileServer = {
    url,
    requests,
    file (path, data, opts = {}) { files.set(path, { data: Buffer.from(data), headers: opts.headers, token: opts.token }) },
    json (path, value) { jsons.set(path, value) },
    redirect (path, target, status = 302) { redirects.set(path, { target, status }) },
    faults (path, ...list) { faultQueue.set(path, [...(faultQueue.get(path) ?? []), ...list]) },
    huggingface (repo, rev, file, data, opts = {}) {
      const resolvePath = `/${repo}/resolve/${rev}/${file}`
      if (opts.cdn) {
        const cdnPath = `/repos/${repo}/${file}`
        opts.cdn.file(cdnPath, data)
        const etag = opts.etag ?? createHash('sha256').update(data).digest('hex')
        redirects.set(resolvePath, { target: `${opts.cdn.url}${cdnPath}`, status: 302, headers: { 'x-linked-etag': `"${etag}"` } })
      } else {
        self.file(resolvePath, data, { token: opts.token })
      }
      if (opts.cdn && opts.token) files.set(resolvePath, { data: Buffer.alloc(0), token: opts.token })
      return `${url}${resolvePath}`
    },
    civitai (versionId, fileName, data, opts = {}) {
      const host = opts.cdn ?? self
      const cdnPath = `/cdn/${versionId}/${Math.random().toString(36).slice(2)}`
      host.file(cdnPath, data, { headers: { 'content-disposition': `attachment; filename="${fileName}"` } })
      const target = `${host.url}${cdnPath}`
      if (opts.token) files.set(`/api/download/models/${versionId}`, { data: Buffer.alloc(0), token: opts.token, headers: { 'x-redirect': target } })
      else self.redirect(`/api/download/models/${versionId}`, target, 307)
      self.json(`/api/v1/model-versions/${versionId}`, {
        id: versionId, modelId: versionId * 10, name: 'v1', baseModel: 'SD 1.5',
        model: { name: fileName, type: 'LORA' },
        files: [{ name: fileName, primary: true, sizeKB: Buffer.byteLength(data) / 1024, downloadUrl: `${url}/api/download/models/${versionId}`, hashes: {} }],
        ...opts.meta,
      })
      return `${url}/api/download/models/${versionId}`
    },
    close: () => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) }),
  }
  return self
}

/** A strong ETag from the content, as static file servers and CDNs send. */
function etagOf (f: Served): string {
  return f.headers?.etag ?? `"${createHash('sha256').update(f.data).digest('hex').slice(0, 32)}"`
}

function serveBytes (res: ServerResponse, f: Served, range: string | undefined, fault: Fault | undefined): void {
  // An authorised CivitAI-style download answers with a redirect to its CDN.
  if (f.headers?.['x-redirect']) { res.writeHead(307, { location: f.headers['x-redirect'] }).end(); return }
  let body = f.data
  const headers: Record<string, string | number> = { 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes', etag: etagOf(f), ...f.headers }
  let status = 200
  const m = range && !(fault && 'ignoreRange' in fault) ? /bytes=(\d+)-(\d*)/.exec(range) : null
  if (m) {
    const start = Number(m[1])
    const end = m[2] ? Math.min(Number(m[2]), body.length - 1) : body.length - 1
    if (start >= body.length) { res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end(); return }
    headers['content-range'] = `bytes ${start}-${end}/${body.length}`
    body = body.subarray(start, end + 1)
    status = 206
  }
  if (fault && 'corrupt' in fault) {
    body = Buffer.from(body)
    const mid = Math.floor(body.length / 2)
    for (let i = mid; i < Math.min(mid + 16, body.length); i++) body[i] ^= 0xff
  }
  headers['content-length'] = body.length + (fault && 'wrongLength' in fault ? fault.wrongLength : 0)
  res.writeHead(status, headers)
  if (fault && 'drop' in fault) {
    res.write(body.subarray(0, fault.drop), () => res.socket?.destroy())
    return
  }
  if (fault && 'wrongLength' in fault) {
    res.write(body, () => res.socket?.destroy())
    return
  }
  res.end(body)
}
