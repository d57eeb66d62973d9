/** @module A counting semaphore: at most `n` transfers at once, however many files and parts ask. */
export class Slots {
  private waiting: Array<() => void> = []
  private free: number

  constructor (n: number) { this.free = Math.max(1, n) }

  async run<T> (fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--
    else await new Promise<void>(resolve => this.waiting.push(resolve))
    try {
      return await fn()
    } finally {
      const next = this.waiting.shift()
      if (next) next()
      else this.free++
    }
  }
}
