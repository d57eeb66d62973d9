import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli } from '../support/cli'
import { makeTempDir } from '../support/temp-dir'
import { corpusPath } from './corpus'

const noWorkspace = { env: { COMFYDOCK_HOME: join(makeTempDir('nows'), 'none') } }

describe('comfydock workflow analyze', () => {
  it('prints the documented JSON object for one file, with no workspace', () => {
    const r = runCli(['workflow', 'analyze', corpusPath('default.json'), '--json'], noWorkspace)
    expect(r.code).toBe(0)
    const out = r.json()
    expect(Object.keys(out)).toEqual(expect.arrayContaining(['file', 'format', 'nodes', 'models']))
    expect(out.format).toBe('ui')
    expect(out.nodes[0]).toEqual(expect.objectContaining({ id: expect.any(String), type: expect.any(String), core: true, pack: null }))
    expect(out.models).toEqual([expect.objectContaining({
      node_id: '4', node_type: 'CheckpointLoaderSimple', input: 'ckpt_name', value: 'v1-5-pruned-emaonly-fp16.safetensors',
      folder: 'checkpoints', criticality: 'flexible', declared_url: expect.stringContaining('huggingface.co'),
    })])
  })

  it('keeps going past a bad file and reports it in its place', () => {
    const dir = makeTempDir('bad')
    const bad = join(dir, 'bad.json')
    writeFileSync(bad, '{"nodes": [')
    const r = runCli(['workflow', 'analyze', bad, corpusPath('flux_dev_example.png'), join(dir, 'missing.json'), '--json'], noWorkspace)
    const out = r.json<any[]>()
    expect(out.map(x => x.error?.code ?? x.format)).toEqual(['WORKFLOW_INVALID', 'png', 'FILE_NOT_FOUND'])
    expect(out[0].error.message).toContain('bad.json: invalid JSON')
    expect(r.code).toBe(1)
  })

  it('shows node packs and model folders in the human output', () => {
    const r = runCli(['workflow', 'analyze', corpusPath('sd3_text_encoders_example.api.json')], noWorkspace)
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('text_encoders/t5xxl_fp16.safetensors')
    expect(r.stdout).toContain('TripleCLIPLoader.clip_name3')
  })

  it('fails with the reason when the only file is not a workflow', () => {
    const dir = makeTempDir('nw')
    writeFileSync(join(dir, 'x.json'), '{"a": 1}')
    const r = runCli(['workflow', 'analyze', join(dir, 'x.json')], noWorkspace)
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/error\[WORKFLOW_INVALID\]: .*x\.json: not a workflow/)
  })
})
