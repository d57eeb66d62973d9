/**
 * @module Serializes operations per environment: two browser tabs and the CLI may ask at once,
 * and a commit must not interleave with a restore of the same environment.
 */
export class EnvQueue {
  private readonly tails = new Map<string, Promise<unknown>>()

  run<T> (key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve()
    const next = prev.then(fn, fn)
    const tail = next.catch(() => {})
    this.tails.set(key, tail)
    // forget idle keys so the map does not grow with every environment ever touched
    void tail.then(() => { if (this.tails.get(key) === tail) this.tails.delete(key) })
    return next
  }
}
