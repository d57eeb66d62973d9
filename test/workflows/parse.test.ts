import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ComfydockError } from '../../sidecar/errors'
import { analyzeWorkflow, parseLenientJson } from '../../sidecar/workflows'
import { corpusPath } from './corpus'
import { pngWithText, webpWithExif } from './image-files'

const ui = (nodes: unknown[], extra: Record<string, unknown> = {}) => ({ version: 0.4, nodes, links: [], ...extra })
const ckpt = (id: number, value: string, mode = 0) => ({ id, type: 'CheckpointLoaderSimple', mode, widgets_values: [value] })

function errorOf (fn: () => unknown): ComfydockError {
  try { fn() } catch (err) { return err as ComfydockError }
  throw new Error('did not throw')
}

describe('JSON as Python writes it', () => {
  it('accepts bare NaN, Infinity and -Infinity outside strings and leaves strings alone', () => {
    expect(parseLenientJson('{"a": NaN, "b": [Infinity, -Infinity], "c": "NaN Infinity"}'))
      .toEqual({ a: null, b: [Infinity, -Infinity], c: 'NaN Infinity' })
  })

  it('analyzes a workflow that contains NaN widget values', () => {
    const text = '{"nodes": [{"id": 1, "type": "KSampler", "widgets_values": [1, "fixed", NaN]}, ' +
      '{"id": 2, "type": "VAELoader", "widgets_values": ["ae.safetensors"]}]}'
    expect(analyzeWorkflow(text).models.map(m => m.value)).toEqual(['ae.safetensors'])
  })
})

describe('malformed input', () => {
  it('names the file and the line and column of a JSON syntax error', () => {
    const err = errorOf(() => analyzeWorkflow('{\n  "nodes": [\n    {"id": 1,, }\n]}', { file: 'broken.json' }))
    expect(err.code).toBe('WORKFLOW_INVALID')
    expect(err.message).toMatch(/^broken\.json: invalid JSON: .* at line 3, column \d+/)
    expect(err.hint).toBeTruthy()
  })

  it('says what is missing when the JSON is not a workflow', () => {
    const err = errorOf(() => analyzeWorkflow({ hello: 'world' }, { file: 'x.json' }))
    expect(err.message).toContain('x.json: not a workflow')
  })

  it('names a node without a type', () => {
    expect(errorOf(() => analyzeWorkflow(ui([{ id: 7 }]), { file: 'w.json' })).message).toBe('w.json: node 7 has no "type"')
  })

  it('reports an image without an embedded workflow', () => {
    const err = errorOf(() => analyzeWorkflow(pngWithText([{ key: 'Software', text: 'GIMP' }]), { file: 'photo.png' }))
    expect(err.message).toBe('photo.png: this PNG has no embedded workflow (found Software)')
  })

  it('rejects an empty file', () => {
    expect(errorOf(() => analyzeWorkflow(Buffer.alloc(0), { file: 'e.json' })).message).toBe('e.json: the file is empty')
  })
})

describe('formats', () => {
  const workflow = JSON.stringify(ui([ckpt(4, 'sd15/dreamshaper_8.safetensors')]))
  const prompt = JSON.stringify({ 4: { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'x.safetensors' } } })

  it('reads the UI workflow from a real ComfyUI PNG and records both embedded chunks', () => {
    const a = analyzeWorkflow(readFileSync(corpusPath('flux_dev_example.png')), { file: 'flux_dev_example.png' })
    expect([a.format, a.embedded]).toEqual(['png', ['prompt', 'workflow']])
  })

  it.each(['tEXt', 'iTXt', 'iTXt-deflate', 'zTXt'] as const)('reads a workflow from a PNG %s chunk', (chunk) => {
    const a = analyzeWorkflow(pngWithText([{ key: 'workflow', text: workflow, chunk }]))
    expect(a.models.map(m => [m.value, m.folder])).toEqual([['sd15/dreamshaper_8.safetensors', 'checkpoints']])
  })

  it('falls back to the API prompt when a PNG has no UI workflow', () => {
    const a = analyzeWorkflow(pngWithText([{ key: 'prompt', text: prompt }]))
    expect(a.models.map(m => [m.node_id, m.input, m.value])).toEqual([['4', 'ckpt_name', 'x.safetensors']])
  })

  it('reads the workflow from WebP EXIF (workflow: in Make, prompt: in Model)', () => {
    const a = analyzeWorkflow(webpWithExif([[0x010f, 'workflow:' + workflow], [0x0110, 'prompt:' + prompt]]), { file: 'out.webp' })
    expect([a.format, a.embedded, a.models[0]?.value]).toEqual(['webp', ['prompt', 'workflow'], 'sd15/dreamshaper_8.safetensors'])
  })

  it('accepts widgets_values as an object keyed by widget name', () => {
    const a = analyzeWorkflow(ui([{ id: 1, type: 'VAELoader', widgets_values: { vae_name: 'sdxl\\sdxl_vae.safetensors' } }]))
    expect(a.models.map(m => [m.input, m.value, m.path, m.folder])).toEqual([['vae_name', 'sdxl\\sdxl_vae.safetensors', 'sdxl/sdxl_vae.safetensors', 'vae']])
  })

  it('reads an API prompt that carries a stray non-node key', () => {
    const a = analyzeWorkflow({ 3: { class_type: 'VAELoader', inputs: { vae_name: 'ae.safetensors' } }, client_id: 'abc' })
    expect([a.format, a.node_types]).toEqual(['api', ['VAELoader']])
  })

  it('ignores link inputs of API nodes', () => {
    const a = analyzeWorkflow({ 1: { class_type: 'LoraLoader', inputs: { model: ['4', 0], clip: ['4', 1], lora_name: 'add_detail.safetensors', strength_model: 1 } } })
    expect(a.models.map(m => [m.input, m.folder])).toEqual([['lora_name', 'loras']])
  })
})

describe('graph structure', () => {
  it('leaves frontend-only nodes out of the dependencies', () => {
    const a = analyzeWorkflow(ui([{ id: 1, type: 'Note', widgets_values: ['use model.safetensors'] }, { id: 2, type: 'Reroute' },
      { id: 3, type: 'PrimitiveNode', widgets_values: ['x.safetensors'] }, ckpt(4, 'a.safetensors')]))
    expect(a.node_types).toEqual(['CheckpointLoaderSimple'])
    expect(a.excluded_types).toEqual(['Note', 'PrimitiveNode', 'Reroute'])
    expect(a.models.map(m => m.value)).toEqual(['a.safetensors'])
  })

  it('marks muted nodes and their models optional', () => {
    const a = analyzeWorkflow(ui([ckpt(1, 'a.safetensors', 2)]))
    expect([a.nodes[0].mode, a.models[0].criticality]).toEqual(['muted', 'optional'])
  })

  it('expands nested subgraphs (schema 1.0, object links) with instance-path ids and inherited bypass', () => {
    const inner = { id: 'aaaaaaaa-0000-4000-8000-000000000002', nodes: [ckpt(5, 'deep.safetensors')], links: [], inputs: [] }
    const outer = { id: 'aaaaaaaa-0000-4000-8000-000000000001', nodes: [{ id: 3, type: inner.id, mode: 0 }], links: [], inputs: [] }
    const a = analyzeWorkflow({ version: 1, nodes: [{ id: 10, type: outer.id, mode: 4 }], links: [], definitions: { subgraphs: [outer, inner] } })
    expect(a.models.map(m => [m.node_id, m.value, m.criticality])).toEqual([['10:3:5', 'deep.safetensors', 'optional']])
    expect(a.node_types).toEqual(['CheckpointLoaderSimple'])
  })

  it('does not count an instance whose subgraph or group definition is missing as a node type', () => {
    const a = analyzeWorkflow(ui([{ id: 1, type: 'aaaaaaaa-0000-4000-8000-00000000dead' }, { id: 2, type: 'workflow>Gone' }, ckpt(3, 'a.safetensors')]))
    expect([a.node_types, a.excluded_types]).toEqual([['CheckpointLoaderSimple'], ['<missing group node>', '<missing subgraph>']])
  })

  it('refuses a subgraph that contains itself', () => {
    const id = 'aaaaaaaa-0000-4000-8000-000000000009'
    const loop = { id, nodes: [{ id: 1, type: id }], links: [], inputs: [] }
    expect(errorOf(() => analyzeWorkflow({ nodes: [{ id: 2, type: id }], definitions: { subgraphs: [loop] } }, { file: 'loop.json' })).message)
      .toBe(`loop.json: subgraph ${id} contains itself`)
  })

  it('classifies core nodes from the real node list and custom ones with their pack', () => {
    const a = analyzeWorkflow(ui([ckpt(1, 'a.safetensors'),
      { id: 2, type: 'FaceDetailer', properties: { cnr_id: 'comfyui-impact-pack', ver: '8.8.1' } },
      { id: 3, type: 'SomethingNew', properties: { aux_id: 'someone/pack' } },
      { id: 4, type: 'EmptyHunyuanLatentVideo', properties: { cnr_id: 'comfy-core' } }]))
    expect(a.nodes.map(n => [n.type, n.core, n.pack])).toEqual([
      ['CheckpointLoaderSimple', true, null], ['FaceDetailer', false, 'comfyui-impact-pack'],
      ['SomethingNew', false, 'someone/pack'], ['EmptyHunyuanLatentVideo', true, null]])
  })
})

describe('values that are not model files', () => {
  it('skips built-in loader choices that are not files (VAELoader "taesd", "pixel_space")', () => {
    const a = analyzeWorkflow(ui([{ id: 1, type: 'VAELoader', widgets_values: ['taesd'] }, { id: 2, type: 'VAELoader', widgets_values: ['pixel_space'] }]))
    expect(a.models).toEqual([])
  })

  it('skips URLs and multi-line prompt text that end in a model extension', () => {
    const a = analyzeWorkflow(ui([{ id: 1, type: 'SomeDownloader', widgets_values: ['https://example.com/files/model.safetensors'] },
      { id: 2, type: 'CLIPTextEncode', widgets_values: ['a cat\nin the style of x.safetensors'] }]))
    expect(a.models).toEqual([])
  })
})

describe('promoted subgraph widgets', () => {
  const SG = 'bbbbbbbb-0000-4000-8000-000000000001'
  const def = {
    id: SG,
    nodes: [{ id: 7, type: 'UNETLoader', widgets_values: ['inner-default.safetensors', 'default'], inputs: [{ name: 'unet_name', type: 'COMBO', widget: { name: 'unet_name' }, link: 20 }] },
      { id: 8, type: 'VAELoader', widgets_values: ['inner-vae.safetensors'] }],
    links: [{ id: 20, origin_id: -10, origin_slot: 0, target_id: 7, target_slot: 0, type: 'COMBO' }],
    inputs: [{ name: 'unet_name', type: 'COMBO', linkIds: [20] }],
  }
  const run = (instance: Record<string, unknown>) => analyzeWorkflow({ nodes: [{ id: 1, type: SG, ...instance }], definitions: { subgraphs: [def] } })
    .models.map(m => [m.node_id, m.value])

  it('applies proxyWidgets by inner node id and through a subgraph input ("-1")', () => {
    expect(run({ widgets_values: ['outer.safetensors', 'outer-vae.safetensors'], properties: { proxyWidgets: [['-1', 'unet_name'], ['8', 'vae_name']] } }))
      .toEqual([['1:7', 'outer.safetensors'], ['1:8', 'outer-vae.safetensors']])
  })

  it('keeps the inner values when proxyWidgets and widgets_values disagree in length', () => {
    expect(run({ widgets_values: ['outer.safetensors'], properties: { proxyWidgets: [['-1', 'unet_name'], ['8', 'vae_name']] } }))
      .toEqual([['1:7', 'inner-default.safetensors'], ['1:8', 'inner-vae.safetensors']])
  })
})

describe('odd shapes', () => {
  it.each([
    ['null and scalar nodes', { nodes: [null, 1, 'x', { id: 1, type: 'VAELoader', widgets_values: null, properties: 'str' }] }],
    ['broken definitions', { nodes: [{ id: 1, type: 'workflow>A' }], definitions: { subgraphs: 'x' }, extra: { groupNodes: { A: null } } }],
    ['group definition without nodes', { nodes: [{ id: 1, type: 'workflow>A', widgets_values: [1] }], extra: { groupNodes: { A: { nodes: 'no' } } } }],
    ['subgraph with junk links and inputs', {
      nodes: [{ id: 1, type: 'cccccccc-0000-4000-8000-000000000001', widgets_values: ['x.safetensors'], inputs: 'no' }],
      definitions: { subgraphs: [{ id: 'cccccccc-0000-4000-8000-000000000001', nodes: [{ id: 2, type: 'VAELoader' }], links: [null, 5], inputs: [null, { name: 'a', linkIds: [99] }] }] },
    }],
    ['API node with non-object inputs', { 1: { class_type: 'VAELoader', inputs: null } }],
    ['declarations of the wrong type', { nodes: [{ id: 1, type: 'VAELoader', widgets_values: ['ae.safetensors'], properties: { models: [null, { name: 5 }, 'x'] } }], models: {} }],
  ])('analyzes %s without crashing', (_name, doc) => {
    expect(() => analyzeWorkflow(doc)).not.toThrow()
  })
})
