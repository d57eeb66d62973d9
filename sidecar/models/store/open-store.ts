/** @module An S3 client for the configured store, built from the host context (settings, AWS_* variables, credentials file). */
import { S3Client } from './s3-client'
import { parseStoreUrl, s3Config, type StoreLocation, type StoreSettings } from './store-config'
import { netTransport } from './transport'

export interface OpenedStore {
  client: S3Client
  /** The configured `model_store`, when there is one. */
  location?: StoreLocation
}

export async function openStore (s: StoreSettings): Promise<OpenedStore> {
  const url = s.setting('model_store')
  return { client: new S3Client(await s3Config(s), netTransport), ...(url ? { location: parseStoreUrl(url) } : {}) }
}
