/**
 * A plain HTTP relay in front of a real server (the S3 gateway) that can drop a connection mid-answer,
 * the way a flaky link does. It forwards requests unchanged, Host header included, so SigV4 signatures
 * made for the relay's address still verify at the server behind it.
 */
import { createServer, request, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface FaultProxy {
  url: string
  /** The next request whose method and path match loses its connection after `afterBytes` body bytes. */
  dropNext (match: { method: string, pathIncludes: string }, afterBytes: number): void
  /** Requests seen: method, path (with query), and the Range asked. */
  requests: Array<{ method: string, path: string, range?: string }>
  close (): Promise<void>
}

export async function startFaultProxy (target: string): Promise<FaultProxy> {
  const to = new URL(target)
  const drops: Array<{ method: string, pathIncludes: string, afterBytes: number }> = []
  const requests: FaultProxy['requests'] = []
  const server = createServer((req, res) => {
    const path = req.url ?? '/'
    requests.push({ method: req.method ?? 'GET', path, ...(req.headers.range ? { range: String(req.headers.range) } : {}) })
    const i = drops.findIndex(d => d.method === req.method && path.includes(d.pathIncludes))
    const drop = i >= 0 ? drops.splice(i, 1)[0] : undefined
    const upstream = request({ host: to.hostname, port: to.port, method: req.method, path, headers: req.headers }, (up: IncomingMessage) => {
      res.writeHead(up.statusCode ?? 502, up.headers)
      if (!drop) { up.pipe(res); return }
      let sent = 0
      up.on('data', (chunk: Buffer) => {
        if (sent >= drop.afterBytes) return
        const part = chunk.subarray(0, drop.afterBytes - sent)
        sent += part.length
        res.write(part)
        if (sent >= drop.afterBytes) { up.destroy(); res.socket?.destroy() }
      })
    })
    upstream.on('error', () => res.socket?.destroy())
    req.pipe(upstream)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    dropNext (match, afterBytes) { drops.push({ ...match, afterBytes }) },
    close: () => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) }),
  }
}
