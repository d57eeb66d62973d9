/**
 * @module The WebSocket endpoint (`/ws?token=...`) on the same HTTP server. The handshake passes
 * the same checks as HTTP; afterwards every frame is answered, malformed ones with BAD_REQUEST,
 * and nothing a client sends can throw out of here. One connection is one session.
 */
import type { IncomingMessage, Server } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocket, WebSocketServer } from 'ws'
import { toErrorPayload } from '../errors'
import type { EventFrame, ServerFrame } from '../protocol'
import type { Dispatcher } from './dispatch'
import { httpStatusFor, type SecurityPolicy } from './security'
import { Session } from './session'

export const MAX_FRAME_BYTES = 64 * 1024 * 1024

export interface SocketHub {
  broadcast (frame: EventFrame): void
  readonly clients: number
  close (): void
}

function refuse (socket: Duplex, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  const reason = status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Not Found'
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`)
}

export function attachWebSocket (server: Server, policy: SecurityPolicy, getDispatcher: () => Dispatcher): SocketHub {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES })

  const send = (ws: WebSocket, frame: ServerFrame): void => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame))
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {})
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    if (url.pathname !== '/ws') return refuse(socket, 404, { error: { code: 'FILE_NOT_FOUND', message: `no WebSocket at ${url.pathname}` } })
    try {
      policy.check({ host: req.headers.host, origin: req.headers.origin, token: url.searchParams.get('token') ?? undefined })
    } catch (err) {
      const error = toErrorPayload(err)
      return refuse(socket, httpStatusFor(error.code), { error })
    }
    wss.handleUpgrade(req, socket, head, ws => wss.emit('connection', ws, req))
  })

  wss.on('connection', (ws: WebSocket) => {
    // aborts this client's running and queued work when it goes away
    const gone = new AbortController()
    const session = new Session(frame => send(ws, frame), gone.signal)
    ws.on('error', () => {})
    ws.on('close', () => gone.abort())
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? '' : data.toString()
      getDispatcher().handleText(text, session)
        .then(frame => send(ws, frame))
        .catch(() => {})
    })
  })

  return {
    broadcast (frame) {
      for (const ws of wss.clients) send(ws, frame)
    },
    get clients () { return wss.clients.size },
    close () {
      for (const ws of wss.clients) ws.terminate()
      wss.close()
    },
  }
}
