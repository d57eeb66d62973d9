/**
 * @module Where the team's model store is and how to sign for it. The store itself is a workspace
 * setting (`model_store s3://bucket/prefix`); endpoint, region and keys come from comfydock's own
 * settings (keys in credentials.json), else the usual AWS_* variables, else the AWS credentials file
 * (`~/.aws/credentials`, profile AWS_PROFILE). None of it is ever written into an environment.
 */
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { ComfydockError } from '../../errors'
import type { SettingSpec } from '../../workspace'
import type { S3Config, S3Credentials } from './s3-client'

export interface StoreLocation {
  bucket: string
  /** Key prefix without leading or trailing slash ('' for the bucket root). */
  prefix: string
}

const STORE_HINT = 'Set it with `comfydock config model_store s3://<bucket>/<prefix>`.'

/** The store's setting; here rather than only in the store host so reading it loads no S3 client. */
export const MODEL_STORE_SETTING: SettingSpec = { key: 'model_store', default: '', description: 'the team\'s model store, s3://<bucket>/<prefix> (models are fetched from it first)', check: v => { parseStoreUrl(v) } }

/** `s3://bucket/prefix` → bucket and prefix; anything else is refused with the form to use. */
export function parseStoreUrl (url: string): StoreLocation {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url.trim())
  if (!m) throw new ComfydockError('CONFIG_INVALID_VALUE', `"${url}" is not a model store (s3://<bucket>/<prefix>)`, { hint: STORE_HINT })
  return { bucket: m[1], prefix: (m[2] ?? '').replace(/^\/+|\/+$/g, '') }
}

/** Objects are keyed by content: `<prefix>/<sha256>`. */
export function objectKey (loc: StoreLocation, sha256: string): string {
  return loc.prefix ? `${loc.prefix}/${sha256}` : sha256
}

/** The source recorded in manifests: no endpoint, no keys, the same for every teammate. */
export function storeSourceUrl (loc: StoreLocation, sha256: string): string {
  return `s3://${loc.bucket}/${objectKey(loc, sha256)}`
}

/** An `s3://bucket/key` source; undefined for anything else. */
export function parseObjectUrl (url: string): { bucket: string, key: string } | undefined {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/.exec(url.trim())
  return m ? { bucket: m[1], key: m[2] } : undefined
}

/** The SHA-256 a content-addressed key names (its last segment), if it is one. */
export function sha256OfKey (key: string): string | undefined {
  const last = key.split('/').pop() ?? ''
  return /^[0-9a-f]{64}$/.test(last) ? last : undefined
}

export function checkEndpoint (endpoint: string): void {
  let ok = false
  try { ok = ['http:', 'https:'].includes(new URL(endpoint).protocol) } catch { /* not a URL */ }
  if (!ok) throw new ComfydockError('CONFIG_INVALID_VALUE', `the model store endpoint "${endpoint}" is not an http(s) URL`, { hint: 'Set it with `comfydock config s3_endpoint https://…`.' })
}

export interface StoreSettings {
  setting (key: string): string
  environment: Readonly<Record<string, string | undefined>>
}

/** `[profile]` sections of an AWS credentials file. */
function iniSection (text: string, profile: string): Record<string, string> {
  const out: Record<string, string> = {}
  let current = ''
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (!line || line.startsWith('#') || line.startsWith(';')) continue
    const section = /^\[\s*(?:profile\s+)?([^\]]+?)\s*\]$/.exec(line)
    if (section) { current = section[1]; continue }
    const kv = /^([^=]+?)\s*=\s*(.*)$/.exec(line)
    if (kv && current === profile) out[kv[1].toLowerCase()] = kv[2]
  }
  return out
}

async function credentialsFile (env: StoreSettings['environment']): Promise<Partial<S3Credentials>> {
  const file = env.AWS_SHARED_CREDENTIALS_FILE ?? join(env.HOME ?? homedir(), '.aws', 'credentials')
  let text: string
  try { text = await readFile(file, 'utf8') } catch { return {} }
  const s = iniSection(text, env.AWS_PROFILE ?? 'default')
  return { accessKeyId: s.aws_access_key_id, secretAccessKey: s.aws_secret_access_key, sessionToken: s.aws_session_token }
}

export async function s3Config (s: StoreSettings): Promise<S3Config> {
  const env = s.environment
  const region = s.setting('s3_region') || env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1'
  const explicit = s.setting('s3_endpoint') || env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL
  const endpoint = explicit || `https://s3.${region}.amazonaws.com`
  checkEndpoint(endpoint)
  let credentials: Partial<S3Credentials> = { accessKeyId: s.setting('s3_access_key_id'), secretAccessKey: s.setting('s3_secret_access_key') }
  if (!credentials.accessKeyId || !credentials.secretAccessKey) {
    credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN }
  }
  if (!credentials.accessKeyId || !credentials.secretAccessKey) credentials = await credentialsFile(env)
  if (!credentials.accessKeyId || !credentials.secretAccessKey) {
    throw new ComfydockError('MODEL_STORE_NOT_CONFIGURED', 'no credentials for the model store', {
      hint: 'Set them with `comfydock config s3_access_key_id <id>` and `comfydock config s3_secret_access_key <secret>`, or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or ~/.aws/credentials.',
    })
  }
  return {
    endpoint,
    region,
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey, ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}) },
    // Every S3-compatible server takes path-style requests; only AWS's own endpoint gets bucket host names.
    pathStyle: Boolean(explicit),
  }
}
