/**
 * @module The few S3 calls a model store needs (HEAD, GET by signed URL, PUT, multipart upload), signed
 * with SigV4 by `aws4` and sent through the one HTTP client. Any S3-compatible server works (AWS, R2,
 * MinIO, SeaweedFS): an explicit endpoint is addressed path-style (`<endpoint>/<bucket>/<key>`), AWS
 * itself virtual-host style. Errors carry S3's own code (InvalidAccessKeyId, NoSuchBucket…).
 */
import { createHash } from 'node:crypto'
import type Aws4 from 'aws4'
import { lazyRequire } from '../../lazy-require'
import { ComfydockError, redactSecrets } from '../../errors'
import { describeNetworkError } from '../../net'

// loaded when a request is signed: status and other commands that never reach a store skip it
const aws4 = lazyRequire<typeof Aws4>('aws4')

export interface S3Credentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}

export interface S3Config {
  /** `https://s3.us-east-1.amazonaws.com`, `http://127.0.0.1:8333`, `https://<account>.r2.cloudflarestorage.com` … */
  endpoint: string
  region: string
  credentials: S3Credentials
  /** `<endpoint>/<bucket>/<key>` rather than `<bucket>.<endpoint host>/<key>`. */
  pathStyle: boolean
}

/** The part of the one HTTP client this module uses (sidecar/net). */
export interface S3Transport {
  request (url: string, opts: { method?: string, headers?: Record<string, string>, body?: string | Uint8Array, signal?: AbortSignal, retries?: number }): Promise<S3Answer>
}

export interface S3Answer {
  readonly status: number
  header (name: string): string | undefined
  text (maxBytes?: number): Promise<string>
  discard (): Promise<void>
}

/** A failed S3 call: the HTTP status and S3's error code travel with it. */
export class S3Error extends ComfydockError {
  constructor (readonly status: number, readonly s3Code: string, message: string, hint?: string) {
    super(status === 401 || status === 403 ? 'MODEL_STORE_AUTH_FAILED' : 'MODEL_STORE_FAILED', message, { hint })
  }
}

/** RFC 3986 encoding of each key segment, as SigV4 expects it. */
export function encodeKey (key: string): string {
  return key.split('/').map(s => encodeURIComponent(s).replace(/[!'()*]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)).join('/')
}

const AUTH_CODES = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'ExpiredToken', 'InvalidToken', 'AuthorizationHeaderMalformed'])

export function describeS3Failure (status: number, body: string, what: string): S3Error {
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1] ?? `HTTP ${status}`
  const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1]
  const text = `${what}: the model store answered ${code}${message ? ` (${message})` : ''}`
  if (status === 401 || status === 403 || AUTH_CODES.has(code)) {
    return new S3Error(403, code, text, 'Check the store credentials: `comfydock config s3_access_key_id <id>` and `comfydock config s3_secret_access_key <secret>`, or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.')
  }
  if (code === 'NoSuchBucket') return new S3Error(status, code, text, 'Create the bucket, or point `comfydock config model_store s3://<bucket>/<prefix>` at an existing one.')
  return new S3Error(status, code, text, 'Check `comfydock config s3_endpoint` and that the store is up, then run the same command again.')
}

export class S3Client {
  constructor (private readonly cfg: S3Config, private readonly http: S3Transport) {}

  private where (bucket: string, key: string): { host: string, path: string, base: string } {
    const u = new URL(this.cfg.endpoint)
    const base = u.pathname.replace(/\/+$/, '')
    if (this.cfg.pathStyle) return { host: u.host, path: `${base}/${encodeURIComponent(bucket)}/${encodeKey(key)}`, base: `${u.protocol}//${u.host}` }
    return { host: `${bucket}.${u.host}`, path: `${base}/${encodeKey(key)}`, base: `${u.protocol}//${bucket}.${u.host}` }
  }

  /** The object's URL without credentials (what `s3://bucket/key` means on this endpoint). */
  objectUrl (bucket: string, key: string): string {
    const w = this.where(bucket, key)
    return `${w.base}${w.path}`
  }

  /** A GET URL signed in its query, valid for `expires` seconds: the downloader fetches it like any URL (with Range). */
  presignGet (bucket: string, key: string, expires = 3600): string {
    const w = this.where(bucket, key)
    const signed = aws4().sign({ host: w.host, path: `${w.path}?X-Amz-Expires=${expires}`, method: 'GET', service: 's3', region: this.cfg.region, signQuery: true }, this.cfg.credentials)
    return `${w.base}${signed.path}`
  }

  private async call (method: string, bucket: string, key: string, opts: { query?: string, body?: string | Uint8Array, sha256?: string, headers?: Record<string, string>, signal?: AbortSignal, what: string }): Promise<S3Answer> {
    const w = this.where(bucket, key)
    const path = `${w.path}${opts.query ? `?${opts.query}` : ''}`
    const headers: Record<string, string> = { ...(opts.headers ?? {}) }
    // The payload hash is signed: a body that changes on the way is refused by the server.
    headers['x-amz-content-sha256'] = opts.sha256 ?? createHash('sha256').update(opts.body ?? '').digest('hex')
    const signed = aws4().sign({ host: w.host, path, method, headers, service: 's3', region: this.cfg.region }, this.cfg.credentials)
    const url = `${w.base}${signed.path}`
    try {
      return await this.http.request(url, { method, headers: signed.headers as Record<string, string>, body: opts.body, signal: opts.signal })
    } catch (err) {
      if ((err instanceof ComfydockError && err.code === 'CANCELLED') || opts.signal?.aborted) throw err
      const reason = err instanceof ComfydockError ? err.message : describeNetworkError(err)
      throw new ComfydockError('MODEL_STORE_FAILED', `${opts.what}: ${redactSecrets(reason)}`, {
        hint: `Check that the store at ${this.cfg.endpoint} is up (\`comfydock config s3_endpoint\`), then run the same command again.`, cause: err,
      })
    }
  }

  private async expectOk (res: S3Answer, what: string): Promise<string> {
    const text = await res.text(1024 * 1024)
    if (res.status < 200 || res.status >= 300) throw describeS3Failure(res.status, text, what)
    return text
  }

  /** Size of the object, or undefined when there is none. */
  async head (bucket: string, key: string, signal?: AbortSignal): Promise<{ size: number } | undefined> {
    const what = `checking s3://${bucket}/${key}`
    const res = await this.call('HEAD', bucket, key, { signal, what })
    await res.discard()
    if (res.status === 404) return undefined
    // A HEAD answer has no body to say why; ask again with a GET of nothing to learn S3's error code.
    if (res.status === 403 || res.status === 401 || res.status >= 300) {
      const probe = await this.call('GET', bucket, key, { headers: { range: 'bytes=0-0' }, signal, what })
      const body = await probe.text(64 * 1024)
      if (probe.status === 404 && !/NoSuchBucket/.test(body)) return undefined
      throw describeS3Failure(probe.status >= 300 ? probe.status : res.status, body, what)
    }
    return { size: Number(res.header('content-length') ?? 0) }
  }

  async put (bucket: string, key: string, body: Uint8Array, sha256: string, signal?: AbortSignal): Promise<void> {
    const what = `uploading s3://${bucket}/${key}`
    await this.expectOk(await this.call('PUT', bucket, key, { body, sha256, signal, what, headers: { 'content-type': 'application/octet-stream' } }), what)
  }

  async createMultipart (bucket: string, key: string, signal?: AbortSignal): Promise<string> {
    const what = `starting the upload of s3://${bucket}/${key}`
    const text = await this.expectOk(await this.call('POST', bucket, key, { query: 'uploads=', signal, what, headers: { 'content-type': 'application/octet-stream' } }), what)
    const id = /<UploadId>([^<]+)<\/UploadId>/.exec(text)?.[1]
    if (!id) throw new ComfydockError('MODEL_STORE_FAILED', `${what}: the store answered no UploadId`)
    return id
  }

  async uploadPart (bucket: string, key: string, uploadId: string, part: number, body: Uint8Array, sha256: string, signal?: AbortSignal): Promise<string> {
    const what = `uploading part ${part} of s3://${bucket}/${key}`
    const res = await this.call('PUT', bucket, key, { query: `partNumber=${part}&uploadId=${encodeURIComponent(uploadId)}`, body, sha256, signal, what })
    await this.expectOk(res, what)
    return res.header('etag') ?? ''
  }

  async completeMultipart (bucket: string, key: string, uploadId: string, parts: Array<{ part: number, etag: string }>, signal?: AbortSignal): Promise<void> {
    const what = `finishing the upload of s3://${bucket}/${key}`
    const xml = `<CompleteMultipartUpload>${parts.map(p => `<Part><PartNumber>${p.part}</PartNumber><ETag>${p.etag.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</ETag></Part>`).join('')}</CompleteMultipartUpload>`
    const text = await this.expectOk(await this.call('POST', bucket, key, { query: `uploadId=${encodeURIComponent(uploadId)}`, body: xml, signal, what, headers: { 'content-type': 'application/xml' } }), what)
    // S3 may answer 200 and put the failure in the body.
    if (/<Error>/.test(text)) throw describeS3Failure(500, text, what)
  }

  async abortMultipart (bucket: string, key: string, uploadId: string): Promise<void> {
    const res = await this.call('DELETE', bucket, key, { query: `uploadId=${encodeURIComponent(uploadId)}`, what: 'abort' }).catch(() => undefined)
    await res?.discard()
  }
}
