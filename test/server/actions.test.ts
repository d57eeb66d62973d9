import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSidecar, type RunningSidecar } from '../../sidecar/server'
import { startFileServer, type FileServer } from '../support/file-server'
import { connect, type TestClient } from './client'
import { makeEnvWorkspace } from './fixture'

describe('sidecar actions with progress: model download and export', () => {
  let sidecar: RunningSidecar
  let files: FileServer
  let client: TestClient
  let watcher: TestClient
  let env: Awaited<ReturnType<typeof makeEnvWorkspace>>

  beforeAll(async () => {
    env = await makeEnvWorkspace('demo')
    files = await startFileServer()
    sidecar = await startSidecar({ workspaceRoot: env.root })
    client = await connect(sidecar.wsUrl, sidecar.token)
    watcher = await connect(sidecar.wsUrl, sidecar.token)
  })
  afterAll(async () => {
    await client?.close()
    await watcher?.close()
    await sidecar?.close()
    await files?.close()
  })

  it('models.download lands the file in the models folder, streams progress to the caller and tells other clients', async () => {
    const data = Buffer.alloc(256 * 1024, 7)
    files.file('/files/detail.safetensors', data)
    const res = await client.call('models.download', { url: `${files.url}/files/detail.safetensors`, relPath: 'loras/detail.safetensors' })
    expect(res.ok).toBe(true)
    if (!res.ok) return
    expect(res.result).toMatchObject({ path: 'loras/detail.safetensors' })
    expect(readFileSync(join(env.ws.modelsDir, 'loras', 'detail.safetensors'))).toEqual(data)
    const progress = client.events.filter(e => e.event === 'progress')
    expect(progress.length).toBeGreaterThan(0)
    expect(progress.some(e => e.event === 'progress' && e.progress.phase === 'end')).toBe(true)
    expect(watcher.events.filter(e => e.event === 'progress')).toEqual([])
    await new Promise(r => setTimeout(r, 50))
    expect(watcher.events).toContainEqual(expect.objectContaining({ event: 'changed', env: 'demo', method: 'models.download' }))
  })

  it('a failing download is an error answer, and the sidecar keeps serving', async () => {
    const res = await client.call('models.download', { url: `${files.url}/files/absent.safetensors`, relPath: 'loras/absent.safetensors' })
    expect(res.ok).toBe(false)
    if (!res.ok) expect(res.error.code).toBe('DOWNLOAD_FAILED')
    expect(existsSync(join(env.ws.modelsDir, 'loras', 'absent.safetensors'))).toBe(false)
    expect((await client.call('server.hello', {})).ok).toBe(true)
  })

  it('sends only frames that match the protocol schema the panel validates with', () => {
    for (const c of [client, watcher]) expect(c.invalid).toEqual([])
  })

  it('env.export writes a bundle and offers it by a token-protected download URL', async () => {
    const res = await client.call('env.export', {})
    expect(res.ok).toBe(true)
    if (!res.ok) return
    const result = res.result as { file: string, size: number, downloadPath: string }
    expect(result.file).toMatch(/^demo_export_\d{4}-\d{2}-\d{2}\.tar\.gz$/)
    expect((await fetch(`${sidecar.url}${result.downloadPath}`)).status).toBe(401)
    const dl = await fetch(`${sidecar.url}${result.downloadPath}?token=${sidecar.token}`)
    expect(dl.status).toBe(200)
    const bytes = Buffer.from(await dl.arrayBuffer())
    expect(bytes.length).toBe(result.size)
    expect(bytes.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]))
  })
})
