/** @module The store's requests go through the one HTTP client of sidecar/net; this adapts its shape. */
import { httpRequestFollow, readBody } from '../../net'
import type { S3Answer, S3Transport } from './s3-client'

export const netTransport: S3Transport = {
  async request (url, opts) {
    const { res, status } = await httpRequestFollow(url, { method: opts.method, headers: opts.headers, body: opts.body, signal: opts.signal, followRedirects: false })
    let consumed = false
    return {
      status,
      header: (name: string) => { const v = res.headers[name.toLowerCase()]; return Array.isArray(v) ? v[0] : v },
      text: async (max?: number) => { consumed = true; return (await readBody(res, max)).toString('utf8') },
      discard: async () => { if (!consumed) { consumed = true; res.resume() } },
    } satisfies S3Answer
  },
}
