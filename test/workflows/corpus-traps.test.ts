// Each trap the corpus README lists, checked on the real file that shows it.
import { describe, expect, it } from 'vitest'
import { summarizeModels } from '../../sidecar/workflows'
import { analyzeCorpusFile } from './corpus'

const values = (file: string) => analyzeCorpusFile(file).models.map(m => m.value)

describe('declarations are hints, not references', () => {
  it('does not count a declared LoRA no widget loads (lora_multiple: MoXinV1)', () => {
    expect(values('lora_multiple.json')).not.toContain('MoXinV1.safetensors')
  })

  it('takes the file name from the widget, not from a civitai URL ending in a numeric id', () => {
    const a = analyzeCorpusFile('lora_multiple.json')
    const civitai = a.models.filter(m => m.declared_url?.includes('civitai'))
    expect(civitai.length).toBeGreaterThan(0)
    for (const m of civitai) expect(m.value).toMatch(/\.safetensors$/)
  })

  it('matches a placeholder declaration to the widget by its URL (image_to_video_wan)', () => {
    const a = analyzeCorpusFile('image_to_video_wan.json')
    const unet = a.models.find(m => m.node_type === 'UNETLoader')!
    expect(unet.value).toBe('wan2.1_i2v_480p_14B_fp16.safetensors')
    expect(unet.declared_url).toMatch(/wan2\.1_i2v_480p_14B_fp16\.safetensors/)
    expect(a.models.map(m => m.value)).not.toContain('wan2.1_t2v_1.3B_fp16.safetensors')
  })

  it('finds loaded models nobody declared (mixing_controlnets: checkpoint and .ckpt VAE)', () => {
    const a = analyzeCorpusFile('mixing_controlnets.json')
    expect(a.models.find(m => m.value === 'AOM3A1.safetensors')?.folder).toBe('checkpoints')
    expect(a.models.find(m => m.value === 'kl-f8-anime2.ckpt')?.folder).toBe('vae')
  })

  it('uses the top-level models list as declarations (hunyuan_video_image_to_video)', () => {
    const a = analyzeCorpusFile('hunyuan_video_image_to_video.json')
    expect(a.models.length).toBeGreaterThan(0)
    for (const m of a.models) expect(m.declared_url).toMatch(/^https:\/\//)
  })
})

describe('legacy group nodes', () => {
  const a = analyzeCorpusFile('flux_kontext_dev_grouped.json')

  it('uses the instance widget values, not the stale defaults in the group definition', () => {
    const v = a.models.map(m => m.value)
    expect(v).not.toContain('preliminary-dev-kontext.sft')
    expect(v).not.toContain('t5xxl_fp16.safetensors')
    const unet = a.models.filter(m => m.node_type === 'UNETLoader')
    expect(unet.map(m => [m.node_id, m.value, m.folder])).toEqual([
      ['175:8', 'flux1-dev-kontext_fp8_scaled.safetensors', 'diffusion_models'],
      ['178:8', 'flux1-dev-kontext_fp8_scaled.safetensors', 'diffusion_models'],
    ])
  })

  it('marks the models of the bypassed instance optional and keeps the active ones needed', () => {
    for (const m of a.models.filter(m => m.node_id.startsWith('178:'))) expect(m.criticality).toBe('optional')
    for (const m of a.models.filter(m => m.node_id.startsWith('175:'))) expect(m.criticality).not.toBe('optional')
  })

  it('reports a group-node definition no node uses (flux_dev_example.png)', () => {
    expect(analyzeCorpusFile('flux_dev_example.png').unused_definitions).toEqual(['group_node:EmptyLatentImage'])
  })
})

describe('subgraphs', () => {
  const a = analyzeCorpusFile('image_qwen_image_instantx_controlnet.json')

  it('scopes inner node ids by the instance and takes promoted widget values', () => {
    expect(a.models.filter(m => m.node_id.startsWith('106:')).map(m => [m.node_id, m.node_type, m.value, m.folder])).toEqual([
      ['106:89', 'VAELoader', 'vae-ft-mse-840000-ema-pruned.safetensors', 'vae'],
      ['106:87', 'UNETLoader', 'lotus-depth-d-v1-1.safetensors', 'diffusion_models'],
    ])
  })

  it('does not list the subgraph instance itself as a node type', () => {
    expect(a.node_types.some(t => /^[0-9a-f-]{36}$/.test(t))).toBe(false)
  })

  it('keeps a bypassed LoRA as an optional reference', () => {
    const lora = a.models.find(m => m.node_type === 'LoraLoaderModelOnly')!
    expect([lora.mode, lora.criticality]).toEqual(['bypassed', 'optional'])
  })
})

describe('bypassed duplicates (video_wan2_2_14B_t2v)', () => {
  const a = analyzeCorpusFile('video_wan2_2_14B_t2v.json')

  it('lists both copies, the bypassed one optional', () => {
    const bypassed = a.models.filter(m => m.mode === 'bypassed')
    expect(bypassed.length).toBeGreaterThan(0)
    for (const m of bypassed) expect(m.criticality).toBe('optional')
  })

  it('keeps a model needed when an active node also uses it', () => {
    for (const s of summarizeModels(a.models)) {
      if (s.refs.some(r => r.mode === 'active')) expect(s.criticality, s.path).not.toBe('optional')
    }
  })
})

describe('references without a plain widget file name', () => {
  it('finds an embedding named inside prompt text', () => {
    const e = analyzeCorpusFile('embedding_example.png').models.find(m => m.via === 'embedding')!
    expect([e.value, e.folder, e.node_type]).toEqual(['SDA768.pt', 'embeddings', 'CLIPTextEncode'])
  })

  it('invents nothing for a preset-based loader (ipadapter_faceid)', () => {
    const a = analyzeCorpusFile('ipadapter_faceid.json')
    expect(a.models.filter(m => m.node_type === 'IPAdapterUnifiedLoaderFaceID')).toEqual([])
  })

  it('finds no model in a partner-API-only workflow', () => {
    expect(values('api_bfl_flux_pro_t2i.json')).toEqual([])
  })

  it('keeps subfolder values verbatim and gives a component node the folder its value has elsewhere', () => {
    const a = analyzeCorpusFile('detailer-pipe-test.json')
    expect(a.models.find(m => m.value === 'bbox/face_yolov8m.pt')?.path).toBe('bbox/face_yolov8m.pt')
    const component = a.models.find(m => m.node_type === '## make-basic_pipe [2c8c61]')!
    expect([component.value, component.folder]).toEqual(['SD1.5/V07_v07.safetensors', 'checkpoints'])
  })

  it('reads a T2I-Adapter .pth through ControlNetLoader as a controlnet', () => {
    const m = analyzeCorpusFile('depth_t2i_adapter.png').models.find(m => m.node_type === 'ControlNetLoader')!
    expect([m.value, m.folder]).toEqual(['t2iadapter_depth_sd14v1.pth', 'controlnet'])
  })

  it('reads every file of a multi-model loader in API format (TripleCLIPLoader)', () => {
    const a = analyzeCorpusFile('sd3_text_encoders_example.api.json')
    const triple = a.models.filter(m => m.node_type === 'TripleCLIPLoader')
    expect(triple.map(m => m.input)).toEqual(['clip_name1', 'clip_name2', 'clip_name3'])
    expect(new Set(triple.map(m => m.folder))).toEqual(new Set(['text_encoders']))
  })

  it('reads all four files of a QuadrupleCLIPLoader (newer than the capture)', () => {
    const quad = analyzeCorpusFile('hidream_i1_dev.json').models.filter(m => m.node_type === 'QuadrupleCLIPLoader')
    expect(quad.map(m => m.widget_index)).toEqual([0, 1, 2, 3])
  })

  it('does not take file names from Note/MarkdownNote text', () => {
    const a = analyzeCorpusFile('flux_redux_model_example.json')
    expect(a.models.some(m => m.node_type.includes('Note'))).toBe(false)
  })
})
