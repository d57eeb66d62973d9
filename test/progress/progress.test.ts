import { describe, expect, it } from 'vitest'
import { PROGRESS_INTERVAL_MS, startTask } from '../../sidecar/progress'
import type { ProgressEvent } from '../../sidecar/protocol'

describe('progress events', () => {
  it('sends a fast counter in steps of 1% instead of one event per step, and always the last step', () => {
    const events: ProgressEvent[] = []
    const task = startTask(e => events.push(e), 'scan models', { total: 10_000, unit: 'items' })
    for (let i = 1; i <= 10_000; i++) task.advance(i)
    task.end('ok')
    const progress = events.filter(e => e.phase === 'progress')
    expect(progress[0].current).toBe(1) // the first step shows at once
    expect(progress.length).toBeLessThanOrEqual(101 + 10) // 1% steps, plus a few time-based ones on a slow machine
    expect(progress.length).toBeGreaterThanOrEqual(100)
    expect(progress.at(-1)?.current).toBe(10_000)
    expect(events.map(e => e.phase)).toEqual(['start', ...progress.map(() => 'progress'), 'end'])
  })

  it('without a total, sends a step again once the interval has passed, and every step that carries a message', async () => {
    const events: ProgressEvent[] = []
    const task = startTask(e => events.push(e), 'install')
    task.advance(1)
    task.advance(2)
    await new Promise(resolve => setTimeout(resolve, PROGRESS_INTERVAL_MS + 20))
    task.advance(3)
    task.advance(0, 'torch 2.5.1')
    task.advance(0, 'numpy 2.1.0')
    expect(events.filter(e => e.phase === 'progress').map(e => e.message ?? e.current)).toEqual([1, 3, 'torch 2.5.1', 'numpy 2.1.0'])
  })
})
