/**
 * A loopback HTTPS proxy that answers, for the hosts the peer tools hard-code, what this world has:
 * the PyTorch wheel index (download.pytorch.org, from the world's wheels), the Comfy Registry
 * (api.comfy.org, forwarded to the loopback registry), the few GitHub API calls they make and the
 * ComfyDock node mappings (raw.githubusercontent.com). Tools reach it through the documented proxy and
 * CA variables (HTTPS_PROXY, SSL_CERT_FILE, REQUESTS_CA_BUNDLE): the least invasive way to point a tool
 * at a local equivalent when its hosts are fixed in code. Everything else is refused.
 */
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { join } from 'node:path'
import { TLSSocket } from 'node:tls'

export interface StandIn {
  /** Variables that send a tool's HTTPS through the stand-in and make it trust the stand-in's CA. */
  env: Record<string, string>
  requests: string[]
  stop (): Promise<void>
}

export interface StandInOptions {
  dir: string
  wheels: string
  registryUrl: string
  comfyuiTags: Record<string, string>
  nodeMappings?: unknown
  /** `owner/name` on github.com -> a local repository, served over git's smart HTTP (git http-backend). */
  gitRepos?: Record<string, string>
}

const HOSTS = ['download.pytorch.org', 'api.comfy.org', 'api.github.com', 'raw.githubusercontent.com', 'github.com', 'huggingface.co']

function makeCertificates (dir: string): { ca: string, key: Buffer, cert: Buffer } {
  const ossl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
  ossl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=comfydock peer stand-in CA'])
  writeFileSync(join(dir, 'leaf.ext'), `subjectAltName=${HOSTS.map(h => `DNS:${h}`).join(',')}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`)
  ossl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=stand-in'])
  ossl(['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.pem', '-days', '2', '-extfile', 'leaf.ext'])
  // The stand-in's CA next to the system's, so the real PyPI (reached directly) still verifies.
  const system = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt'].find(f => existsSync(f))
  writeFileSync(join(dir, 'bundle.pem'), (system ? readFileSync(system, 'utf8') + '\n' : '') + readFileSync(join(dir, 'ca.pem'), 'utf8'))
  return { ca: join(dir, 'bundle.pem'), key: readFileSync(join(dir, 'leaf.key')), cert: readFileSync(join(dir, 'leaf.pem')) }
}

/** Reached directly: loopback, and PyPI, which this machine does reach. */
const DIRECT = '127.0.0.1,localhost,pypi.org,files.pythonhosted.org'

const normalize = (name: string) => name.toLowerCase().replace(/[-_.]+/g, '-')

export async function startStandIn (opts: StandInOptions): Promise<StandIn> {
  const { ca, key, cert } = makeCertificates(opts.dir)
  const requests: string[] = []
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body))
  }
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const host = (req.headers.host ?? '').split(':')[0]
    const url = new URL(req.url ?? '/', `https://${host}`)
    requests.push(`${req.method} ${host}${url.pathname}`)
    if (host === 'download.pytorch.org') {
      // PEP 503 simple index of the world's wheels: /whl/<backend>/<project>/ and the files.
      const parts = url.pathname.split('/').filter(Boolean)
      const wheels = readdirSync(opts.wheels).filter(f => f.endsWith('.whl'))
      if (parts[0] === 'whl' && parts.length === 3) {
        const project = normalize(parts[2])
        const files = wheels.filter(f => normalize(f.split('-')[0]) === project)
        res.writeHead(files.length ? 200 : 404, { 'content-type': 'text/html' })
        return void res.end(`<!DOCTYPE html><html><body>${files.map(f => `<a href="/files/${f}">${f}</a>`).join('\n')}</body></html>`)
      }
      if (parts[0] === 'files' && wheels.includes(parts[1])) {
        res.writeHead(200, { 'content-type': 'application/octet-stream' })
        return void res.end(readFileSync(join(opts.wheels, parts[1])))
      }
      return json(res, 404, { error: 'not here' })
    }
    if (host === 'api.comfy.org') {
      // The loopback registry refuses the install-counting endpoint; its answer is the version record.
      const install = /^\/nodes\/([^/]+)\/install$/.exec(url.pathname)
      if (install && !url.searchParams.get('version')) {
        fetch(new URL(`/nodes/${install[1]}`, opts.registryUrl)).then(async r => r.ok
          ? json(res, 200, ((await r.json()) as { latest_version?: unknown }).latest_version)
          : json(res, r.status, await r.json())).catch(err => json(res, 502, { error: String(err) }))
        return
      }
      const path = install ? `/nodes/${install[1]}/versions/${url.searchParams.get('version')}` : url.pathname + url.search
      const target = new URL(path, opts.registryUrl)
      const fwd = httpRequest(target, { method: req.method, headers: { accept: 'application/json' } }, up => {
        res.writeHead(up.statusCode ?? 502, up.headers)
        up.pipe(res)
      })
      fwd.on('error', err => json(res, 502, { error: String(err) }))
      return void req.pipe(fwd)
    }
    if (host === 'raw.githubusercontent.com' && url.pathname.endsWith('/node_mappings.json')) {
      return json(res, 200, opts.nodeMappings ?? { version: 'stand-in', stats: {}, mappings: {}, packages: {} })
    }
    if (host === 'api.github.com') {
      const m = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(url.pathname)
      if (m) {
        const [, owner, name, rest = ''] = m
        const tags = Object.keys(opts.comfyuiTags).sort()
        const release = (tag: string) => ({ tag_name: tag, name: tag, prerelease: false, draft: false, published_at: '2025-01-01T00:00:00Z', html_url: `https://github.com/${owner}/${name}/releases/tag/${tag}` })
        if (rest === '') return json(res, 200, { name, full_name: `${owner}/${name}`, default_branch: name === 'ComfyUI' ? 'master' : 'main', clone_url: `https://github.com/${owner}/${name}.git`, html_url: `https://github.com/${owner}/${name}`, description: '' })
        if (name === 'ComfyUI' && rest === '/releases/latest' && tags.length) return json(res, 200, release(tags[tags.length - 1]))
        if (name === 'ComfyUI' && rest === '/releases') return json(res, 200, [...tags].reverse().map(release))
        const tag = /^\/releases\/tags\/(.+)$/.exec(rest)?.[1]
        if (name === 'ComfyUI' && tag && opts.comfyuiTags[tag]) return json(res, 200, release(tag))
        const commit = /^\/commits\/(.+)$/.exec(rest)?.[1]
        if (commit) return json(res, 200, { sha: opts.comfyuiTags[commit] ?? commit })
      }
      return json(res, 404, { message: 'Not Found' })
    }
    json(res, 404, { error: `the stand-in does not serve ${host}` })
  }
  // github.com/<owner>/<name>(.git) is git http-backend over links to the local repositories.
  const gitRoot = join(opts.dir, 'git-root')
  for (const [slug, repo] of Object.entries(opts.gitRepos ?? {})) {
    mkdirSync(join(gitRoot, slug, '..'), { recursive: true })
    const gitDir = existsSync(join(repo, '.git')) ? join(repo, '.git') : repo
    for (const name of [slug, `${slug}.git`]) if (!existsSync(join(gitRoot, name))) symlinkSync(gitDir, join(gitRoot, name))
  }
  const gitHttp = (req: IncomingMessage, res: ServerResponse, url: URL): void => {
    const cgi = spawn('git', ['http-backend'], {
      env: {
        ...process.env, GIT_PROJECT_ROOT: gitRoot, GIT_HTTP_EXPORT_ALL: '1', PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1), REQUEST_METHOD: req.method ?? 'GET', CONTENT_TYPE: req.headers['content-type'] ?? '',
        REMOTE_ADDR: '127.0.0.1', ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] } : {}),
      },
    })
    req.pipe(cgi.stdin)
    let head = Buffer.alloc(0)
    let sent = false
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (sent) { res.write(chunk); return }
      head = Buffer.concat([head, chunk])
      const end = head.indexOf('\r\n\r\n')
      if (end < 0) return
      const headers: Record<string, string> = {}
      let status = 200
      for (const line of head.subarray(0, end).toString().split('\r\n')) {
        const i = line.indexOf(':')
        if (i < 0) continue
        const k = line.slice(0, i).trim()
        const v = line.slice(i + 1).trim()
        if (k.toLowerCase() === 'status') status = Number.parseInt(v, 10)
        else headers[k] = v
      }
      res.writeHead(status, headers)
      sent = true
      res.write(head.subarray(end + 4))
    })
    cgi.on('close', () => res.end())
  }
  const inner = createServer((req, res) => {
    const host = (req.headers.host ?? '').split(':')[0]
    if (host === 'github.com') {
      requests.push(`${req.method} github.com${(req.url ?? '').split('?')[0]}`)
      return gitHttp(req, res, new URL(req.url ?? '/', 'https://github.com'))
    }
    handle(req, res)
  })
  const proxy = createServer((req, res) => json(res, 400, { error: 'only CONNECT' }))
  proxy.on('connect', (req: IncomingMessage, socket: Socket) => {
    const host = (req.url ?? '').split(':')[0]
    if (!HOSTS.includes(host)) { socket.end('HTTP/1.1 403 Forbidden\r\n\r\n'); return }
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n')
    const tls = new TLSSocket(socket, { isServer: true, key, cert })
    tls.on('error', () => socket.destroy())
    inner.emit('connection', tls)
  })
  await new Promise<void>(resolve => proxy.listen(0, '127.0.0.1', resolve))
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
  return {
    env: {
      HTTPS_PROXY: proxyUrl, https_proxy: proxyUrl, NO_PROXY: DIRECT, no_proxy: DIRECT,
      SSL_CERT_FILE: ca, REQUESTS_CA_BUNDLE: ca, CURL_CA_BUNDLE: ca, GIT_SSL_CAINFO: ca,
    },
    requests,
    stop: () => new Promise<void>(resolve => { proxy.closeAllConnections(); inner.closeAllConnections(); proxy.close(() => resolve()) }),
  }
}
