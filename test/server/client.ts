/** A small protocol client over a real WebSocket, for the server tests. */
import { WebSocket } from 'ws'
import { PROTOCOL_VERSION, serverFrame, type EventFrame, type ResponseFrame, type ServerFrame } from '../../sidecar/protocol'

export interface TestClient {
  ws: WebSocket
  events: EventFrame[]
  /** Frames that do not match the protocol schema the extension validates with (should stay empty). */
  invalid: string[]
  call (method: string, params?: unknown): Promise<ResponseFrame>
  sendRaw (data: string | Buffer): void
  /** Resolves with the next response to a frame without a usable id. */
  nextAnonymous (): Promise<ResponseFrame>
  close (): Promise<void>
}

export async function connect (wsUrl: string, token: string, origin?: string): Promise<TestClient> {
  const ws = new WebSocket(`${wsUrl}?token=${encodeURIComponent(token)}`, origin ? { origin } : {})
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject) })
  const pending = new Map<string, (f: ResponseFrame) => void>()
  const anonymous: Array<(f: ResponseFrame) => void> = []
  const events: EventFrame[] = []
  const invalid: string[] = []
  let next = 0
  ws.on('message', data => {
    const frame = JSON.parse(data.toString()) as ServerFrame
    if (!serverFrame.safeParse(frame).success) invalid.push(data.toString().slice(0, 300))
    if (frame.type === 'event') { events.push(frame); return }
    const waiter = frame.id === null ? anonymous.shift() : pending.get(frame.id)
    if (frame.id !== null) pending.delete(frame.id)
    waiter?.(frame)
  })
  return {
    ws,
    events,
    invalid,
    call (method, params) {
      const id = `r${++next}`
      return new Promise(resolve => {
        pending.set(id, resolve)
        ws.send(JSON.stringify({ v: PROTOCOL_VERSION, id, method, params }))
      })
    },
    sendRaw (data) { ws.send(data) },
    nextAnonymous () { return new Promise(resolve => anonymous.push(resolve)) },
    close () {
      return new Promise(resolve => { ws.once('close', () => resolve()); ws.close() })
    },
  }
}

/** Resolves with the handshake's HTTP status (101 on success). */
export function handshakeStatus (url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise(resolve => {
    const ws = new WebSocket(url, { headers })
    ws.once('open', () => { ws.close(); resolve(101) })
    ws.once('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); res.resume() })
    ws.once('error', () => {})
  })
}
