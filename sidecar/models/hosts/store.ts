/**
 * @module The team's model store: any S3-compatible bucket, objects keyed by SHA-256. It claims
 * `s3://bucket/key` sources (a teammate's `model push` records them) and, asked by hash, says whether
 * the store has the content. Downloads go through a signed GET URL, so they resume and verify like any
 * other; the key names the SHA-256, so a corrupted object is refused by its hash.
 */
import { openStore } from '../store/open-store'
import { checkEndpoint, MODEL_STORE_SETTING, objectKey, parseObjectUrl, parseStoreUrl, sha256OfKey, storeSourceUrl } from '../store/store-config'
import type { ModelHost } from './types'

export const storeHost: ModelHost = {
  id: 'store',
  label: 'the model store',
  settings: [
    MODEL_STORE_SETTING,
    { key: 's3_endpoint', default: '', description: 'S3-compatible endpoint URL (empty: AWS_ENDPOINT_URL, else AWS S3 of s3_region)', check: checkEndpoint },
    { key: 's3_region', default: '', description: 'S3 region (empty: AWS_REGION, else us-east-1)' },
    { key: 's3_access_key_id', default: '', secret: true, description: 'model store access key id (empty: AWS_ACCESS_KEY_ID or ~/.aws/credentials)' },
    { key: 's3_secret_access_key', default: '', secret: true, description: 'model store secret key (empty: AWS_SECRET_ACCESS_KEY or ~/.aws/credentials)' },
  ],
  forms: ['s3://<bucket>/<key> (the model store)'],
  knowsFolder: false,
  authHint: 'Check the store credentials: `comfydock config s3_access_key_id <id>` and `comfydock config s3_secret_access_key <secret>`, or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.',
  tokens: () => [],
  claim (input) {
    const obj = parseObjectUrl(input)
    if (!obj) return undefined
    const sourceUrl = `s3://${obj.bucket}/${obj.key}`
    return {
      host: this,
      sourceUrl,
      plan: async ctx => {
        const store = await openStore(ctx)
        return {
          host: 'store',
          downloadUrl: store.client.presignGet(obj.bucket, obj.key),
          sourceUrl,
          headers: {},
          expectedSha256: sha256OfKey(obj.key),
        }
      },
    }
  },
  configured: ctx => ctx.setting('model_store') !== '',
  async findByHash (hashes, ctx) {
    if (!ctx.setting('model_store')) return undefined
    const loc = parseStoreUrl(ctx.setting('model_store'))
    const store = await openStore(ctx)
    const found = await store.client.head(loc.bucket, objectKey(loc, hashes.sha256), ctx.signal)
    return found ? { sourceUrl: storeSourceUrl(loc, hashes.sha256), name: 'model store' } : undefined
  },
}
