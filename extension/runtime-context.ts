/**
 * @module What this page's ComfyUI has: its `/object_info` (read once per page), its model lists (read
 * again after a download) and the packs it failed to load (from the bridge). Sent to the sidecar as
 * `session.context`, each large part keyed by its hash: a reconnect or a second tab names a part the
 * sidecar already holds by hash alone, and nothing is sent again until a hash changes.
 */
import type { LoadFailure } from '../sidecar/protocol'
import { comfyFetch } from './host'

/** 53-bit string hash (cyrb53): no crypto.subtle, which a page on a LAN address (not a secure context) lacks. */
export function hashText (text: string, seed = 0): string {
  let h1 = 0xdeadbeef ^ seed
  let h2 = 0x41c6ce57 ^ seed
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ ch, 2654435761)
    h2 = Math.imul(h2 ^ ch, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36)
}

async function readObjectInfo (): Promise<{ text: string, value: Record<string, unknown> } | null> {
  try {
    const res = await comfyFetch('/object_info')
    if (!res.ok) return null
    const text = await res.text()
    return { text, value: JSON.parse(text) as Record<string, unknown> }
  } catch {
    return null // analysis still works from the built-in tables
  }
}

async function readModelLists (): Promise<Record<string, string[]> | null> {
  try {
    const folders = await comfyFetch('/models')
    if (!folders.ok) return null
    const names = await folders.json() as string[]
    const lists: Record<string, string[]> = {}
    await Promise.all(names.map(async f => {
      const r = await comfyFetch(`/models/${encodeURIComponent(f)}`)
      if (r.ok) lists[f] = await r.json() as string[]
    }))
    return lists
  } catch {
    return null
  }
}

export interface ContextPart<T> {
  hash: string
  value: T
}

/** The runtime context as the page holds it: each large part with its hash. */
export interface PageContext {
  /** Changes whenever any part does. */
  key: string
  objectInfo?: ContextPart<Record<string, unknown>>
  modelLists?: ContextPart<Record<string, string[]>>
  loadFailures: LoadFailure[]
}

export class RuntimeContextSource {
  private objectInfo: ReturnType<typeof readObjectInfo> | null = null
  private models: ReturnType<typeof readModelLists> | null = null
  private loadFailures: LoadFailure[] = []

  setLoadFailures (failures: LoadFailure[]): void {
    this.loadFailures = failures
  }

  /** After a download: ComfyUI lists the new file, object_info stays as it is until a restart. */
  modelsChanged (): void {
    this.models = null
  }

  async current (): Promise<PageContext> {
    const [info, lists] = await Promise.all([this.objectInfo ??= readObjectInfo(), this.models ??= readModelLists()])
    const objectInfo = info ? { hash: hashText(info.text), value: info.value } : undefined
    const modelLists = lists ? { hash: hashText(JSON.stringify(lists)), value: lists } : undefined
    const key = [objectInfo?.hash, modelLists?.hash, hashText(JSON.stringify(this.loadFailures))].join('.')
    return { key, ...(objectInfo ? { objectInfo } : {}), ...(modelLists ? { modelLists } : {}), loadFailures: this.loadFailures }
  }
}
