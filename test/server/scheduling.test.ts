import { describe, expect, it } from 'vitest'
import { Dispatcher, EnvQueue, Session, defaultMethods, type MethodTable } from '../../sidecar/server'
import type { ServerFrame } from '../../sidecar/protocol'
import { makeEnvWorkspace } from './fixture'

function deferred (): { promise: Promise<void>, resolve: () => void } {
  let resolve!: () => void
  const promise = new Promise<void>(r => { resolve = r })
  return { promise, resolve }
}

describe('EnvQueue', () => {
  it('runs tasks of one environment one after the other, in order', async () => {
    const q = new EnvQueue()
    const gate = deferred()
    const order: string[] = []
    const first = q.run('demo', async () => { order.push('first start'); await gate.promise; order.push('first end') })
    const second = q.run('demo', async () => { order.push('second') })
    await new Promise(r => setImmediate(r))
    expect(order).toEqual(['first start'])
    gate.resolve()
    await Promise.all([first, second])
    expect(order).toEqual(['first start', 'first end', 'second'])
  })

  it('does not make other environments wait, and a failure does not block the queue', async () => {
    const q = new EnvQueue()
    const gate = deferred()
    const blocked = q.run('a', () => gate.promise)
    expect(await q.run('b', async () => 'b ran')).toBe('b ran')
    const failing = q.run('a', async () => { throw new Error('boom') })
    const after = q.run('a', async () => 'after ran')
    gate.resolve()
    await blocked
    await expect(failing).rejects.toThrow('boom')
    expect(await after).toBe('after ran')
  })
})

describe('Dispatcher scheduling', () => {
  it('answers reads of an environment while a long exclusive operation on it is running', async () => {
    const { root } = await makeEnvWorkspace('demo')
    const gate = deferred()
    const order: string[] = []
    // a long install stands in for pip (the gate decides when it ends); a second exclusive call records when it starts
    const methods: MethodTable = {
      ...defaultMethods(),
      'nodes.install': { scope: 'env', exclusive: true, changes: true, run: async () => { await gate.promise; order.push('install end'); return { installed: ['x'], failed: [] } } },
      'workflows.restore': { scope: 'env', exclusive: true, run: async () => { order.push('restore start'); return { name: 'x', ref: 'HEAD', json: {} } } },
    }
    const broadcasts: ServerFrame[] = []
    const d = new Dispatcher({ workspaceRoot: root, methods, exportsDir: root, broadcast: f => broadcasts.push(f) })
    const signal = new AbortController().signal
    const install = d.handle({ v: 2, id: '1', method: 'nodes.install', params: { specs: ['x'] } }, new Session(() => {}, signal))
    const restore = d.handle({ v: 2, id: '2', method: 'workflows.restore', params: { name: 'x' } }, new Session(() => {}, signal))
    const status = await d.handle({ v: 2, id: '3', method: 'env.status', params: {} }, new Session(() => {}, signal))
    expect(status.ok).toBe(true)
    expect(order).toEqual([])
    gate.resolve()
    expect((await install).ok && (await restore).ok).toBe(true)
    expect(order).toEqual(['install end', 'restore start'])
    expect(broadcasts).toEqual([expect.objectContaining({ event: 'changed', method: 'nodes.install', env: 'demo' })])
  })

  it('drops queued work of a client that disconnected', async () => {
    const { root } = await makeEnvWorkspace('demo')
    const gate = deferred()
    const methods: MethodTable = { ...defaultMethods(), 'nodes.install': { scope: 'env', exclusive: true, run: async () => { await gate.promise; return { installed: [], failed: [] } } } }
    const d = new Dispatcher({ workspaceRoot: root, methods, exportsDir: root, broadcast: () => {} })
    const first = d.handle({ v: 2, id: '1', method: 'nodes.install', params: { specs: ['x'] } }, new Session(() => {}, new AbortController().signal))
    const gone = new AbortController()
    const queued = d.handle({ v: 2, id: '2', method: 'workflows.restore', params: { name: 'x' } }, new Session(() => {}, gone.signal))
    gone.abort()
    gate.resolve()
    await first
    const res = await queued
    expect(res.ok).toBe(false)
    if (!res.ok) expect(res.error.code).toBe('CANCELLED')
  })
})
