// The interactive choice on a real terminal (a pty from util-linux `script`): several files match, the
// user picks one with the arrow keys, the choice is shown with path and size and kept in pyproject.
import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { readManifest } from '../../sidecar/manifest'
import { CLI } from '../support/cli'
import { makeEnvFixture } from './env-fixture'

function runOnTty (args: string[], keys: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const cmd = [process.execPath, CLI, ...args].map(a => `'${a.replace(/'/g, "'\\''")}'`).join(' ')
  const child = spawn('script', ['-qec', cmd, '/dev/null'], { env: { ...process.env, ...env, NO_COLOR: '1', TERM: 'xterm' } })
  let out = ''
  let sent = 0
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      // Answer each prompt once it is on screen.
      if (sent < keys.length && (out.match(/Which one\?/g) ?? []).length > sent) child.stdin.write(keys[sent++])
    })
    child.on('error', reject)
    child.on('close', () => resolve(out))
  })
}

describe('interactive model choice', () => {
  it('shows each candidate with path and size and keeps the one picked', async () => {
    const f = await makeEnvFixture()
    await f.addModels({ 'loras/a/style.safetensors': 'first', 'loras/b/style.safetensors': 'second' })
    f.saveWorkflow('w', { nodes: [{ id: 1, type: 'LoraLoaderModelOnly', widgets_values: ['style.safetensors', 1] }] })
    const { trackWorkflows } = await import('../../sidecar/workflows')
    await trackWorkflows(f.env, ['w'])
    const out = await runOnTty(['--workspace', f.ws.root, 'workflow', 'resolve', 'w'], ['\u001b[B\r'], {})
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
