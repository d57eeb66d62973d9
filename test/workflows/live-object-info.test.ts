// Model inputs found from a real ComfyUI's /api/object_info + /api/models lists (v0.3.7 capture).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { analyzeWorkflow, builtinLoaderInputs, liveLoaderInputs, type ModelLists, type ObjectInfo } from '../../sidecar/workflows'
import { analyzeCorpusFile, corpusPath, fixturesDir } from './corpus'

const objectInfo: ObjectInfo = JSON.parse(readFileSync(join(fixturesDir, 'object_info-v0.3.7.json'), 'utf8'))
const models = JSON.parse(readFileSync(join(fixturesDir, 'models-v0.3.7.json'), 'utf8'))
const modelLists: ModelLists = Object.fromEntries((models.folders as string[]).map(f => [f, models[f] as string[]]))

describe('live object_info', () => {
  const live = liveLoaderInputs(objectInfo, modelLists)

  it('finds the same model inputs as the built-in table for every core loader in the capture', () => {
    for (const [type, rows] of live) {
      const builtin = builtinLoaderInputs(type)
      if (!builtin) continue
      expect(rows.map(r => [r.input, r.index, r.folder]), type).toEqual(builtin.map(r => [r.input, r.index, r.folder]))
    }
  })

  it('never takes image, sampler or type lists for model folders', () => {
    const rows = [...live.values()].flat()
    for (const input of ['image', 'sampler_name', 'scheduler', 'type', 'latent', 'model_path', 'audio']) {
      expect(rows.filter(r => r.input === input), input).toEqual([])
    }
  })

  it('detects the model inputs of a custom node by its COMBO options, whatever the extension', () => {
    const inpaint = ['fooocus_inpaint_head.pth', 'inpaint_v26.fooocus.patch']
    const info: ObjectInfo = {
      ...objectInfo,
      INPAINT_LoadFooocusInpaint: {
        input: { required: { head: [inpaint], patch: [inpaint] } },
        input_order: { required: ['head', 'patch'] },
        python_module: 'custom_nodes.comfyui-inpaint-nodes',
      },
    }
    const lists = { ...modelLists, inpaint }
    const a = analyzeWorkflow(readFileSync(corpusPath('inpaint-simple.json')), { file: 'inpaint-simple.json', objectInfo: info, modelLists: lists })
    const refs = a.models.filter(m => m.node_type === 'INPAINT_LoadFooocusInpaint')
    expect(refs.map(m => [m.input, m.value, m.folder])).toEqual([
      ['head', 'fooocus_inpaint_head.pth', 'inpaint'],
      ['patch', 'inpaint_v26.fooocus.patch', 'inpaint'],
    ])
    expect(a.nodes.find(n => n.type === 'INPAINT_LoadFooocusInpaint')?.pack).toBe('comfyui-inpaint-nodes')
  })

  it('without live data, counts only values with a model extension for unknown nodes', () => {
    const refs = analyzeCorpusFile('inpaint-simple.json').models.filter(m => m.node_type === 'INPAINT_LoadFooocusInpaint')
    expect(refs.map(m => [m.value, m.via])).toEqual([['fooocus_inpaint_head.pth', 'extension']])
  })

  it('classifies by python_module when object_info is given', () => {
    const a = analyzeWorkflow({ 1: { class_type: 'KSampler', inputs: {} }, 2: { class_type: 'NotInstalled', inputs: {} } }, { objectInfo, modelLists })
    expect(a.nodes.map(n => [n.type, n.core])).toEqual([['KSampler', true], ['NotInstalled', false]])
  })
})
