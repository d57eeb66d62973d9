/** Shared output for benches: one row per measurement, ours beside the reference, and the ratio. */
import { performance } from 'node:perf_hooks'

export interface Row {
  name: string
  ours: number
  reference: number
  referenceName: string
  /** 'time': lower is better, ratio = reference/ours. 'rate': higher is better, ratio = ours/reference. */
  kind?: 'time' | 'rate'
  unit?: string
  goal?: string
}

export async function time<T> (fn: () => Promise<T> | T): Promise<{ ms: number, value: T }> {
  const t0 = performance.now()
  const value = await fn()
  return { ms: performance.now() - t0, value }
}

/** Median of n runs (after one warm-up when warm is true). */
export async function median (n: number, fn: () => Promise<unknown> | unknown, warm = true): Promise<number> {
  if (warm) await fn()
  const times: number[] = []
  for (let i = 0; i < n; i++) times.push((await time(fn)).ms)
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)]
}

/**
 * Median time of each function over n rounds, the functions taking turns within a round so a slow
 * spell of the machine (or of its disk) hits every side alike. `before` runs untimed before each run.
 */
export async function interleavedMedians (n: number, fns: Array<() => Promise<unknown> | unknown>, before?: () => void): Promise<number[]> {
  const times = fns.map(() => [] as number[])
  for (let i = 0; i < n; i++) {
    for (const [j, fn] of fns.entries()) {
      before?.()
      times[j].push((await time(fn)).ms)
    }
  }
  return times.map(t => t.sort((a, b) => a - b)[Math.floor(n / 2)])
}

export function printRows (title: string, rows: Row[]): void {
  console.log(`\n${title}`)
  for (const r of rows) {
    const ratio = (r.kind ?? 'time') === 'time' ? r.reference / r.ours : r.ours / r.reference
    const unit = r.unit ?? 'ms'
    console.log(`  ${r.name.padEnd(44)} ours ${r.ours.toFixed(1).padStart(9)} ${unit}  ${r.referenceName.padEnd(22)} ${r.reference.toFixed(1).padStart(9)} ${unit}  ratio ${ratio.toFixed(2)}x${r.goal ? `  (goal ${r.goal})` : ''}`)
  }
}

export function printValue (name: string, value: number, unit: string, goal?: string): void {
  console.log(`  ${name.padEnd(44)} ${value.toFixed(1).padStart(9)} ${unit}${goal ? `  (goal ${goal})` : ''}`)
}
