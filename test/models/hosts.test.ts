import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { downloadModel, MODEL_HOSTS, MODEL_SETTINGS } from '../../sidecar/models'
import { Workspace } from '../../sidecar/workspace'
import { runCli } from '../support/cli'
import { startFileServer, type FileServer } from '../support/file-server'
import { makeTempDir } from '../support/temp-dir'
import { rejection } from './expect-error'

describe('model hosts: one chain decides who fetches a URL', () => {
  let hf: FileServer
  let civ: FileServer
  let ws: Workspace
  beforeAll(async () => {
    hf = await startFileServer(); civ = await startFileServer()
    ws = (await Workspace.init(join(makeTempDir('hosts'), 'ws'))).workspace
    await ws.setConfig('huggingface_url', hf.url, MODEL_SETTINGS)
    await ws.setConfig('civitai_url', civ.url, MODEL_SETTINGS)
  })
  afterAll(async () => { await hf.close(); await civ.close() })

  it('a refused Hugging Face download names the Hugging Face token, a refused CivitAI one the CivitAI key', async () => {
    hf.huggingface('org/gated', 'main', 'gated.safetensors', 'x'.repeat(100), { token: 'needed' })
    const a = await rejection(downloadModel(ws, { url: `${hf.url}/org/gated/resolve/main/gated.safetensors`, folder: 'loras' }))
    expect(a.code).toBe('DOWNLOAD_AUTH_REQUIRED')
    expect(a.hint).toContain('comfydock config hf_token')
    expect(a.hint).not.toContain('civitai')
    civ.civitai(4040, 'early_access.safetensors', 'y'.repeat(100), { token: 'needed' })
    const b = await rejection(downloadModel(ws, { url: `${civ.url}/api/download/models/4040` }))
    expect(b.code).toBe('DOWNLOAD_AUTH_REQUIRED')
    expect(b.hint).toContain('comfydock config civitai_token')
    expect(b.hint).not.toContain('hf_token')
  })

  it('an input no host understands is refused with every form the hosts accept', async () => {
    const err = await rejection(downloadModel(ws, { url: 'ftp://example.com/x.safetensors', folder: 'loras' }))
    expect(err.code).toBe('INVALID_ARGUMENT')
    for (const host of MODEL_HOSTS) for (const form of host.forms) expect(err.hint).toContain(form)
  })

  it('`config` knows every host\'s settings, masks their credentials and refuses values that cannot work', () => {
    const root = ws.root
    const valid: Record<string, string> = { model_store: 's3://team-bucket/models', s3_endpoint: 'http://127.0.0.1:9000' }
    const value = (key: string): string => valid[key] ?? 'value-1234567890-abcd'
    for (const host of MODEL_HOSTS) {
      for (const s of host.settings) {
        if (s.check) {
          const bad = runCli(['config', s.key, 'ftp:nonsense value'], { workspace: root })
          expect(bad.code, s.key).toBe(1)
          expect(bad.stderr).toContain('error[CONFIG_INVALID_VALUE]')
        }
        const set = runCli(['config', s.key, value(s.key)], { workspace: root })
        expect(set.code, set.stderr).toBe(0)
        expect(set.stdout).toContain(s.secret ? 'valu…abcd' : value(s.key))
      }
    }
    const shown = runCli(['config', '--show', '--json'], { workspace: root }).json().config
    for (const s of MODEL_HOSTS.flatMap(h => h.settings)) expect(shown[s.key]).toBe(s.secret ? 'valu…abcd' : value(s.key))
  })
})
