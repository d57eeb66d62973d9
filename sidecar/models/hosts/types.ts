/**
 * @module The seam between model downloads and the places models come from. Each host (the team's
 * store, Hugging Face, CivitAI, any other URL) reads what a user typed or a manifest recorded and
 * answers "not mine" (undefined) or a claim that can plan the download; one ordered list decides
 * (hosts/index.ts), the way pnpm's resolvers and our node sources work. A new host is one file here.
 */
import type { SettingSpec } from '../../workspace'

/** What a host may read while planning: its settings, its credentials, and the request's signal. */
export interface HostContext {
  /** A setting's value, or its default. */
  setting (key: string): string
  /** A credential from the workspace (credentials.json), undefined when unset. */
  secret (key: string): string | undefined
  /** Process environment (the store reads the usual AWS_* variables). */
  environment: Readonly<Record<string, string | undefined>>
  /** Authorization for `url`: each host's token only for its own origin; {} otherwise. */
  headersFor (url: string): Record<string, string>
  signal?: AbortSignal
}

/** Exactly what to fetch, and what to record once the bytes are verified. */
export interface DownloadPlan {
  /** Host id, recorded as the source's type. */
  host: string
  /** Where the bytes are (may be signed or carry a CDN token: never recorded). */
  downloadUrl: string
  /** The source recorded in the index and the manifest: stable, without credentials. */
  sourceUrl: string
  /** Request headers for `downloadUrl` (its host's token). */
  headers: Record<string, string>
  /** File name the host gives the model. */
  filename?: string
  /** Model folder the host knows the model belongs in (CivitAI's model type). */
  folder?: string
  /** Content hash the host announces; the download is refused when the bytes differ. */
  expectedSha256?: string
  /** Kept with the source in the index (CivitAI's version and model ids). */
  metadata?: Record<string, unknown>
}

export interface HostClaim {
  host: ModelHost
  /**
   * The source URL when it is known without asking the host: a file already downloaded from it is
   * found in the index before any request.
   */
  sourceUrl?: string
  /** Asks the host (when it must) and returns the plan. */
  plan (ctx: HostContext): Promise<DownloadPlan>
}

/** A source found for content the index has (`model find-source`). */
export interface FoundByHash {
  sourceUrl: string
  metadata?: Record<string, unknown>
  /** What the host calls the model. */
  name?: string
}

export interface ModelHost {
  id: string
  /** For messages: "Hugging Face". */
  label: string
  /** Its settings (base URL, token); `comfydock config` lists them with the workspace's own. */
  settings: readonly SettingSpec[]
  /** The input forms it understands, for the error that lists what may be passed. */
  forms: readonly string[]
  /** True when a plan can say which model folder a file belongs in (no need to ask the user). */
  knowsFolder: boolean
  /** What to do about an HTTP 401/403 from this host. */
  authHint: string
  /** Tokens this host sends, each to its own origin only. */
  tokens (ctx: Pick<HostContext, 'setting' | 'secret'>): Array<{ baseUrl: string, token?: string }>
  /** undefined: not this host's. Throws for input that is this host's but cannot be used. */
  claim (input: string, ctx: HostContext): HostClaim | undefined
  /** False when the user has not set this host up (the store without `model_store`): it is then not asked by hash, nor named as asked. */
  configured? (ctx: Pick<HostContext, 'setting'>): boolean
  /** Where this content can be fetched from, by full hash; undefined when the host does not know it. */
  findByHash? (hashes: { sha256: string, blake3?: string }, ctx: HostContext): Promise<FoundByHash | undefined>
}
