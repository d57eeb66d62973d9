/**
 * A real git server over HTTP on loopback: git's own `git http-backend` (the smart protocol, push
 * and fetch) behind a small Node server that does what a git host does in front of it: HTTP Basic
 * authentication, and the CGI plumbing. Bare repositories live under `root`; `urlOf(name)` is
 * `http://127.0.0.1:<port>/<name>.git`. With `users`, every request needs a valid login (a private
 * repository); without, anyone may read and push.
 */
import { spawn } from 'node:child_process'
import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'

export interface GitHttpServer {
  url: string
  /** Clone URL of the bare repository `<root>/<name>.git`. */
  urlOf (name: string): string
  /** Creates an empty bare repository (default branch main) and returns its URL. */
  createRepo (name: string): string
  /** Path of a bare repository on disk. */
  pathOf (name: string): string
  /** Requests seen, for asserting what the client did (method + path + query). */
  requests: Array<{ method: string, path: string, user?: string }>
  close (): Promise<void>
}

export interface GitHttpServerOptions {
  /** user -> password; when given, every request must log in. */
  users?: Record<string, string>
}

function userOf (req: IncomingMessage, users: Record<string, string> | undefined): string | undefined | false {
  if (!users) return undefined
  const m = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '')
  if (!m) return false
  const [user, ...rest] = Buffer.from(m[1], 'base64').toString('utf8').split(':')
  return users[user] !== undefined && users[user] === rest.join(':') ? user : false
}

/** Runs `git http-backend` as a CGI program for one request and relays its answer. */
function relay (root: string, req: IncomingMessage, res: ServerResponse, user: string | undefined): void {
  const u = new URL(req.url ?? '/', 'http://x')
  const child = spawn('git', ['http-backend'], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      // http-backend enables push only for an authenticated user; an open server lets everyone push.
      REMOTE_USER: user ?? 'anonymous',
      REMOTE_ADDR: '127.0.0.1',
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: decodeURIComponent(u.pathname),
      QUERY_STRING: u.search.replace(/^\?/, ''),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) } : {}),
      ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
    },
    stdio: ['pipe', 'pipe', 'ignore'],
  })
  req.pipe(child.stdin)
  child.stdin.on('error', () => undefined)
  let head = Buffer.alloc(0)
  let started = false
  child.stdout.on('data', (chunk: Buffer) => {
    if (started) { res.write(chunk); return }
    head = Buffer.concat([head, chunk])
    const end = head.indexOf('\r\n\r\n')
    if (end < 0) return
    started = true
    let status = 200
    const headers: Record<string, string> = {}
    for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
      const i = line.indexOf(':')
      const name = line.slice(0, i).trim(); const value = line.slice(i + 1).trim()
      if (name.toLowerCase() === 'status') status = Number(value.split(' ')[0])
      else headers[name] = value
    }
    res.writeHead(status, headers)
    res.write(head.subarray(end + 4))
  })
  child.on('close', () => {
    if (!started) res.writeHead(500)
    res.end()
  })
}

export async function startGitHttpBackend (root: string, opts: GitHttpServerOptions = {}): Promise<GitHttpServer> {
  mkdirSync(root, { recursive: true })
  const requests: GitHttpServer['requests'] = []
  const server = createServer((req, res) => {
    const user = userOf(req, opts.users)
    const u = new URL(req.url ?? '/', 'http://x')
    requests.push({ method: req.method ?? 'GET', path: `${u.pathname}${u.search}`, ...(user ? { user } : {}) })
    if (user === false) {
      req.resume()
      res.writeHead(401, { 'www-authenticate': 'Basic realm="comfydock test git"' }).end('login required\n')
      return
    }
    relay(root, req, res, user)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const pathOf = (name: string): string => join(root, `${name}.git`)
  return {
    url,
    requests,
    urlOf: name => `${url}/${name}.git`,
    pathOf,
    createRepo (name) {
      execFileSync('git', ['init', '-q', '--bare', '-b', 'main', pathOf(name)])
      return `${url}/${name}.git`
    },
    close: () => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) }),
  }
}
