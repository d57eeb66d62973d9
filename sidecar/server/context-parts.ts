/**
 * @module The large parts of runtime contexts (object_info, model lists) by hash, shared by every
 * connection: a second tab or a reconnect names them by hash instead of sending megabytes again.
 */
import type { ContextPartName } from '../protocol'

/** How many values of each part are kept (one per ComfyUI page state; old ones are dropped first). */
const KEEP = 4

export class ContextParts {
  private readonly parts: Record<ContextPartName, Map<string, unknown>> = { objectInfo: new Map(), modelLists: new Map() }

  get (name: ContextPartName, hash: string): unknown {
    const map = this.parts[name]
    const hit = map.get(hash)
    if (hit !== undefined) { map.delete(hash); map.set(hash, hit) }
    return hit
  }

  set (name: ContextPartName, hash: string, value: unknown): void {
    const map = this.parts[name]
    map.delete(hash)
    map.set(hash, value)
    while (map.size > KEEP) map.delete(map.keys().next().value as string)
  }
}
