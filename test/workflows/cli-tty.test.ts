// The interactive choice on a real terminal (a pty from util-linux `script`): several files match, the
// user picks one with the arrow keys, the choice is shown with path and size and kept in pyproject.
import { describe, expect, it } from 'vitest'
import { readManifest } from '../../sidecar/manifest'
import { runOnTty } from '../support/tty'
import { makeEnvFixture } from './env-fixture'

describe('interactive model choice', () => {
  it('shows each candidate with path and size and keeps the one picked', async () => {
    const f = await makeEnvFixture()
    await f.addModels({ 'loras/a/style.safetensors': 'first', 'loras/b/style.safetensors': 'second' })
    f.saveWorkflow('w', { nodes: [{ id: 1, type: 'LoraLoaderModelOnly', widgets_values: ['style.safetensors', 1] }] })
    const { trackWorkflows } = await import('../../sidecar/workflows')
    await trackWorkflows(f.env, ['w'])
    const out = await runOnTty(['--workspace', f.ws.root, 'workflow', 'resolve', 'w'], /Which one\?/, ['\u001b[B\r'])
    expect(out).toContain('loras/style.safetensors: 2 files match. Which one?')
    expect(out).toMatch(/loras\/a\/style\.safetensors\s+\(64 B, [0-9a-f]{16}\)/)
    const entry = (await readManifest(f.env.pyproject)).tool.comfydock.workflows!.w
    expect(entry.models![0].status).toBe('resolved')
    const { ModelIndex } = await import('../../sidecar/models')
    const idx = ModelIndex.open(f.ws)
    const picked = idx.get(entry.models![0].hash!)!.locations[0].relPath
    idx.close()
    expect(picked).toBe('loras/b/style.safetensors')
  })
})
