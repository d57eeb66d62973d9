/**
 * @module The HTTP face of the sidecar (hono). Every route is behind the token, Host and Origin
 * checks. `POST /rpc` runs one protocol request (the CLI's way in; the panel uses the WebSocket),
 * `GET /downloads/<file>` serves an export bundle, only from the exports folder.
 */
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { basename } from 'node:path'
import { Readable } from 'node:stream'
import { Hono, type Context } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { ComfydockError, toErrorPayload } from '../errors'
import { safeJoin } from '../fs'
import type { ResponseFrame } from '../protocol'
import type { Dispatcher } from './dispatch'
import { bearerToken, httpStatusFor, type SecurityPolicy } from './security'
import { Session } from './session'

export const MAX_BODY_BYTES = 64 * 1024 * 1024

export interface AppDeps {
  policy: SecurityPolicy
  dispatcher: Dispatcher
  exportsDir: string
}

function errorResponse (c: Context, err: unknown): Response {
  const error = toErrorPayload(err)
  return c.json({ error }, httpStatusFor(error.code))
}

/** A request the protocol rejects is an HTTP client error; an operation that failed is still a 200 answer. */
function rpcStatus (frame: ResponseFrame): 200 | 400 | 404 {
  if (frame.ok) return 200
  if (frame.error.code === 'BAD_REQUEST' || frame.error.code === 'INVALID_ARGUMENT') return 400
  return frame.error.code === 'UNKNOWN_METHOD' ? 404 : 200
}

export function createApp (deps: AppDeps): Hono {
  const app = new Hono()

  app.onError((err, c) => errorResponse(c, err))
  app.notFound(c => errorResponse(c, new ComfydockError('FILE_NOT_FOUND', `no route ${c.req.method} ${c.req.path}`)))

  app.use('*', async (c, next) => {
    const isDownload = c.req.method === 'GET' && c.req.path.startsWith('/downloads/')
    deps.policy.check({
      host: c.req.header('host') ?? new URL(c.req.url).host,
      origin: c.req.header('origin'),
      // a browser download is a plain navigation and cannot carry a header
      token: bearerToken(c.req.header('authorization')) ?? (isDownload ? c.req.query('token') : undefined),
    })
    await next()
  })

  app.get('/health', c => c.json({ ok: true, methods: deps.dispatcher.methodNames }))

  app.post('/rpc', bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: c => errorResponse(c, new ComfydockError('BAD_REQUEST', `request body exceeds ${MAX_BODY_BYTES} bytes`)),
  }), async c => {
    const text = await c.req.text()
    // one request, one session: no context is kept between HTTP calls and nothing to cancel from outside
    const frame = await deps.dispatcher.handleText(text, new Session(() => {}, c.req.raw.signal))
    return c.json(frame, rpcStatus(frame))
  })

  app.get('/downloads/:file', async c => {
    const file = safeJoin(deps.exportsDir, c.req.param('file'), 'download')
    const info = await stat(file).catch(() => null)
    if (!info?.isFile()) throw new ComfydockError('FILE_NOT_FOUND', `no export named "${basename(file)}"`, { hint: 'Run `comfydock export` first.' })
    const body = Readable.toWeb(createReadStream(file)) as ReadableStream
    return new Response(body, {
      headers: {
        'content-type': 'application/gzip',
        'content-length': String(info.size),
        'content-disposition': `attachment; filename="${basename(file).replace(/"/g, '')}"`,
      },
    })
  })

  return app
}
