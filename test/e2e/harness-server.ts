/**
 * Serves the extension harness: a page offering ComfyUI's public extension surface over the real
 * litegraph, the BUILT extension bundle at ComfyUI's URL layout, and the ComfyUI HTTP routes the
 * extension uses (object_info, models, userdata, and the bridge route of our custom node).
 */
import { existsSync } from 'node:fs'
import { createServer, request as httpRequest, type Server } from 'node:http'
import { connect as tcpConnect } from 'node:net'
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { join, resolve } from 'node:path'

const HERE = resolve(import.meta.dirname, 'harness')
const REPO = resolve(import.meta.dirname, '..', '..')

const STATIC: Record<string, string> = {
  '/': join(HERE, 'index.html'),
  '/harness/comfy.js': join(HERE, 'comfy.js'),
  '/scripts/app.js': join(HERE, 'scripts', 'app.js'),
  '/scripts/api.js': join(HERE, 'scripts', 'api.js'),
  '/lib/litegraph.es.js': join(REPO, 'node_modules', '@comfyorg', 'litegraph', 'dist', 'litegraph.es.js'),
  '/extensions/comfydock/comfydock.js': join(REPO, 'web', 'js', 'comfydock.js'),
  '/api/object_info': join(HERE, 'object-info.json'),
}

export interface HarnessOptions {
  /**
   * What GET /api/comfydock/bridge answers. As the bridge custom node does, the harness also carries
   * `/api/comfydock/sidecar/ws` and `/api/comfydock/sidecar/downloads/F` to `bridge.url`.
   */
  bridge: { url: string | null, token: string | null }
  /** ComfyUI's user folder for workflows (`user/default/workflows`). */
  userWorkflows: string
  /** Name of the first, saved tab. */
  startName: string
  /** A models folder whose files are listed too (as ComfyUI lists what is on disk). */
  modelsDir?: string
}

async function filesUnder (dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter(e => e.isFile() && !e.name.startsWith('.'))
      .map(e => join(e.parentPath, e.name).slice(dir.length + 1).split('\\').join('/'))
  } catch {
    return []
  }
}

export interface Harness {
  url: string
  close (): Promise<void>
}

export async function startHarness (opts: HarnessOptions): Promise<Harness> {
  const models = JSON.parse(await readFile(join(HERE, 'models.json'), 'utf8')) as Record<string, string[]>
  await mkdir(opts.userWorkflows, { recursive: true })
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const send = (status: number, body: string | Buffer, type = 'application/json'): void => {
      res.writeHead(status, { 'content-type': type })
      res.end(body)
    }
    const handle = async (): Promise<void> => {
      const file = STATIC[url.pathname]
      if (file && req.method === 'GET') {
        const type = file.endsWith('.js') ? 'text/javascript' : file.endsWith('.html') ? 'text/html' : 'application/json'
        return send(200, await readFile(file), type)
      }
      if (url.pathname === '/harness/start.json') return send(200, JSON.stringify({ name: opts.startName, graph: null }))
      if (url.pathname === '/api/comfydock/bridge') return send(200, JSON.stringify(opts.bridge))
      if (url.pathname.startsWith('/api/comfydock/sidecar/downloads/') && opts.bridge.url) {
        const file = url.pathname.slice('/api/comfydock/sidecar'.length)
        const up = httpRequest(`${opts.bridge.url}${file}`, { headers: { authorization: `Bearer ${url.searchParams.get('token') ?? ''}` } }, upstream => {
          res.writeHead(upstream.statusCode ?? 502, upstream.headers)
          upstream.pipe(res)
        })
        up.on('error', () => send(502, '{"error":"sidecar unreachable"}'))
        return void up.end()
      }
      if (url.pathname === '/api/models') return send(200, JSON.stringify(Object.keys(models).filter(k => k !== 'folders')))
      if (url.pathname.startsWith('/api/models/')) {
        const folder = decodeURIComponent(url.pathname.slice('/api/models/'.length))
        const list = models[folder]
        if (!list) return send(404, '[]')
        const onDisk = opts.modelsDir ? await filesUnder(join(opts.modelsDir, folder)) : []
        return send(200, JSON.stringify([...new Set([...list, ...onDisk])]))
      }
      if (url.pathname === '/api/userdata' && url.searchParams.get('dir') === 'workflows') {
        return send(200, JSON.stringify((await readdir(opts.userWorkflows)).filter(f => f.endsWith('.json'))))
      }
      if (url.pathname.startsWith('/api/userdata/')) {
        const rel = decodeURIComponent(url.pathname.slice('/api/userdata/'.length))
        if (!rel.startsWith('workflows/') || rel.includes('..')) return send(400, '{"error":"bad path"}')
        const target = join(opts.userWorkflows, rel.slice('workflows/'.length))
        if (req.method === 'POST') {
          if (url.searchParams.get('overwrite') === 'false' && existsSync(target)) return send(409, '{"error":"file exists"}')
          const chunks: Buffer[] = []
          for await (const c of req) chunks.push(c as Buffer)
          await writeFile(target, Buffer.concat(chunks))
          return send(200, JSON.stringify(rel))
        }
        return send(200, await readFile(target))
      }
      send(404, '{"error":"not found"}')
    }
    handle().catch(err => send(500, JSON.stringify({ error: String(err) })))
  })
  // the bridge's WebSocket: the handshake goes on to the sidecar's /ws with the page's token and Origin
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x')
    if (url.pathname !== '/api/comfydock/sidecar/ws' || !opts.bridge.url) return socket.destroy()
    const target = new URL(opts.bridge.url)
    const upstream = tcpConnect(Number(target.port), target.hostname, () => {
      const headers = Object.entries(req.headers).map(([k, v]) => k === 'host' ? `host: ${target.host}` : `${k}: ${v}`)
      upstream.write(`GET /ws${url.search} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`)
      upstream.write(head)
      upstream.pipe(socket)
      socket.pipe(upstream)
    })
    upstream.on('error', () => socket.destroy())
    socket.on('error', () => upstream.destroy())
  })
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise(r => { server.closeAllConnections(); server.close(() => r()) }),
  }
}
