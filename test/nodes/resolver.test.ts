import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createNodeResolver, inputSignatureKey, pickCandidate, type NodeTypeQuery } from '../../sidecar/nodes'
import { startRegistryServer, type RegistryServer } from '../support/registry-server'
import { makeWorkspaceWithEnv } from './env-fixture'

const CORPUS = '/work/shared/corpus/workflows'
const coreTypes = new Set(Object.keys(JSON.parse(await readFile('/work/shared/comfyui/object_info-v0.3.7.json', 'utf8'))))

/** The custom node types of a real workflow, as the workflows analyzer hands them over. */
async function customQueries (file: string): Promise<NodeTypeQuery[]> {
  const wf = JSON.parse(await readFile(join(CORPUS, file), 'utf8')) as { nodes: Array<{ type: string, properties?: Record<string, string>, inputs?: Array<{ name: string, type: string }> }> }
  const seen = new Map<string, NodeTypeQuery>()
  for (const n of wf.nodes) {
    if (coreTypes.has(n.type) || ['Note', 'MarkdownNote', 'Reroute', 'PrimitiveNode'].includes(n.type) || seen.has(n.type)) continue
    seen.set(n.type, {
      type: n.type, cnrId: n.properties?.cnr_id, auxId: n.properties?.aux_id, ver: n.properties?.ver,
      inputs: Object.fromEntries((n.inputs ?? []).map(i => [i.name, i.type])),
    })
  }
  return [...seen.values()]
}

const IMPACT_CLASSES = [
  'BasicPipeToDetailerPipe', 'BboxDetectorSEGS', 'DetailerForEach', 'DetailerForEachDebug', 'DetailerForEachDebugPipe', 'DetailerForEachPipe',
  'DetailerPipeToBasicPipe', 'EditDetailerPipe', 'FaceDetailer', 'FaceDetailerPipe', 'FromDetailerPipe', 'MaskToSEGS', 'PreviewBridge',
  'SAMDetectorCombined', 'SAMLoader', 'SEGSToImageList', 'SegmDetectorSEGS', 'ToDetailerPipe',
]

let server: RegistryServer
beforeAll(async () => {
  server = await startRegistryServer([
    { id: 'comfyui_ipadapter_plus', name: 'ComfyUI_IPAdapter_plus', repository: 'https://github.com/cubiq/ComfyUI_IPAdapter_plus',
      versions: [{ version: '2.0.0', classes: ['IPAdapterAdvanced', 'IPAdapterModelLoader', 'PrepImageForClipVision', 'IPAdapterUnifiedLoaderFaceID', 'IPAdapterFaceID'] }] },
    { id: 'comfyui-impact-pack', name: 'ComfyUI-Impact-Pack', repository: 'https://github.com/ltdrdata/ComfyUI-Impact-Pack',
      versions: [{ version: '8.0.0', classes: IMPACT_CLASSES }] },
    { id: 'comfyui-impact-subpack', repository: 'https://github.com/ltdrdata/ComfyUI-Impact-Subpack', versions: [{ version: '1.3.0', classes: ['UltralyticsDetectorProvider'] }] },
    // A second pack claiming an Impact-Pack class: the ambiguity case.
    { id: 'impact-fork', name: 'Impact Fork', versions: [{ version: '0.1.0', classes: ['SAMLoader'] }] },
  ])
})
afterAll(async () => { await server?.stop() })

describe('node type resolution', () => {
  it('maps every custom node of the IPAdapter_plus example to its registry pack', async () => {
    const { ws, env } = await makeWorkspaceWithEnv({}, { registry_url: server.url, node_mappings_url: `${server.url}/node_mappings.json` })
    const queries = await customQueries('ipadapter_advanced.json')
    expect(queries.map(q => q.type).sort()).toEqual(['IPAdapterAdvanced', 'IPAdapterModelLoader', 'PrepImageForClipVision'])
    const res = await createNodeResolver(ws, env).resolve(queries)
    for (const r of res) expect(r.candidates[0]).toMatchObject({ packId: 'comfyui_ipadapter_plus', source: 'registry', rank: 1, installed: false })
  })

  it('resolves the Impact-Pack example: installed pack first, subpack from the registry, the contested class ambiguous', async () => {
    const queries = (await customQueries('detailer-pipe-test.json')).filter(q => !q.type.startsWith('## '))
    const config = { registry_url: server.url, node_mappings_url: `${server.url}/node_mappings.json` }

    // Fresh environment: everything comes from the registry, and SAMLoader has two claimants.
    const fresh = await makeWorkspaceWithEnv({}, config)
    const res = await createNodeResolver(fresh.ws, fresh.env).resolve(queries)
    const top = Object.fromEntries(res.map(r => [r.type, r.candidates.map(c => c.packId)]))
    expect(top.UltralyticsDetectorProvider).toEqual(['comfyui-impact-subpack'])
    expect(top.FaceDetailer).toEqual(['comfyui-impact-pack'])
    expect(top.SAMLoader).toEqual(['comfyui-impact-pack', 'impact-fork'])
    const sam = res.find(r => r.type === 'SAMLoader')!
    await expect(pickCandidate(sam)).rejects.toMatchObject({ code: 'NODE_AMBIGUOUS', message: expect.stringContaining('impact-fork') })
    expect((await pickCandidate(sam, { yes: true }))?.message).toContain('took comfyui-impact-pack (top rank) over impact-fork')

    // With the pack installed, its classes resolve locally; exhaustive still lists the other claimant.
    const inst = await makeWorkspaceWithEnv({ nodes: { 'comfyui-impact-pack': { name: 'ComfyUI-Impact-Pack', registry_id: 'comfyui-impact-pack', version: '8.0.0', source: 'registry' } } }, config)
    await mkdir(join(inst.env.customNodes, 'ComfyUI-Impact-Pack'))
    const local = await createNodeResolver(inst.ws, inst.env).resolve(queries)
    for (const r of local.filter(r => IMPACT_CLASSES.includes(r.type))) expect(r.candidates).toEqual([{ packId: 'comfyui-impact-pack', source: 'installed', version: '8.0.0', rank: 1, installed: true }])
    const [all] = await createNodeResolver(inst.ws, inst.env, { exhaustive: true }).resolve([{ type: 'SAMLoader' }])
    expect(all.candidates.map(c => [c.packId, c.source, c.installed])).toEqual([['comfyui-impact-pack', 'installed', true], ['impact-fork', 'registry', false]])
    expect(await pickCandidate(all, { yes: true })).toMatchObject({ reason: 'installed', candidate: { packId: 'comfyui-impact-pack' } })
  })

  it('knows the classes of a git-installed pack that is also in the registry', async () => {
    const commit = 'c'.repeat(40)
    const { ws, env } = await makeWorkspaceWithEnv({
      nodes: { 'comfyui-impact-pack': { name: 'ComfyUI-Impact-Pack', registry_id: 'comfyui-impact-pack', repository: 'https://github.com/ltdrdata/ComfyUI-Impact-Pack', version: commit, source: 'git' } },
    }, { registry_url: server.url, node_mappings_url: `${server.url}/node_mappings.json` })
    await mkdir(join(env.customNodes, 'ComfyUI-Impact-Pack'))
    const [r] = await createNodeResolver(ws, env).resolve([{ type: 'FaceDetailer' }])
    expect(r.candidates).toEqual([{ packId: 'comfyui-impact-pack', source: 'installed', version: commit, rank: 1, installed: true, repository: 'https://github.com/ltdrdata/ComfyUI-Impact-Pack' }])
  })

  it('asks the environment map before the node properties, installed packs and the registry', async () => {
    const { ws, env } = await makeWorkspaceWithEnv({
      nodes: { 'comfyui-impact-pack': { name: 'ComfyUI-Impact-Pack', registry_id: 'comfyui-impact-pack', repository: 'https://github.com/ltdrdata/ComfyUI-Impact-Pack', version: '8.0.0', source: 'registry' } },
      workflows: { wf: { path: 'workflows/wf.json', nodes: [], custom_node_map: { SAMLoader: 'my-own-sam', 'Fancy Note': false } } },
    }, { registry_url: server.url, node_mappings_url: `${server.url}/node_mappings.json` })
    await mkdir(join(env.customNodes, 'ComfyUI-Impact-Pack'))
    const resolver = createNodeResolver(ws, env, { exhaustive: true })
    const [sam, note, detailer, cnr] = await resolver.resolve([
      { type: 'SAMLoader', cnrId: 'from-properties' },
      { type: 'Fancy Note' },
      { type: 'DetailerForEach' },
      { type: 'BboxDetectorSEGS', cnrId: 'comfyui-impact-pack', ver: '8.0.0' },
    ])
    expect(sam.candidates.map(c => [c.packId, c.source])).toEqual([
      ['my-own-sam', 'manifest'], ['from-properties', 'workflow'], ['comfyui-impact-pack', 'installed'], ['impact-fork', 'registry'],
    ])
    expect(note.optional).toBe(true)
    expect(detailer.candidates[0]).toMatchObject({ packId: 'comfyui-impact-pack', source: 'installed', installed: true, version: '8.0.0' })
    expect(cnr.candidates[0]).toMatchObject({ packId: 'comfyui-impact-pack', source: 'workflow', version: '8.0.0', installed: true })
    const [aux] = await resolver.resolve([{ type: 'ImpactThing', auxId: 'ltdrdata/ComfyUI-Impact-Pack', ver: 'abc1234' }])
    expect(aux.candidates[0]).toMatchObject({ packId: 'ltdrdata/ComfyUI-Impact-Pack', source: 'workflow', version: 'abc1234', installed: true, repository: 'https://github.com/ltdrdata/ComfyUI-Impact-Pack' })
  })

  it('uses object_info python_module for installed packs and treats cnr_id comfy-core and core modules as core', async () => {
    const { ws, env } = await makeWorkspaceWithEnv({}, { registry_url: server.url })
    await mkdir(join(env.customNodes, 'ComfyUI_IPAdapter_plus'))
    const objectInfo = { KSampler: { python_module: 'nodes' }, IPAdapterAdvanced: { python_module: 'custom_nodes.ComfyUI_IPAdapter_plus' } }
    const [ks, ipa, core] = await createNodeResolver(ws, env, { objectInfo }).resolve([{ type: 'KSampler' }, { type: 'IPAdapterAdvanced' }, { type: 'VAEDecode', cnrId: 'comfy-core' }])
    expect(ks).toMatchObject({ core: true, candidates: [] })
    expect(ipa.candidates).toEqual([{ packId: 'ComfyUI_IPAdapter_plus', source: 'installed', rank: 1, installed: true }])
    expect(core).toMatchObject({ core: true, candidates: [] })
  })

  it('falls back to node_mappings.json by input signature, then by type only', async () => {
    const queries = await customQueries('canny_workflow.json') // x-flux example: not in our registry
    const sampler = queries.find(q => q.type === 'XlabsSampler')!
    server.setMappings({
      version: 'test', package_aliases: { 'old-xflux': 'x-flux-comfyui' },
      mappings: {
        [inputSignatureKey('XlabsSampler', sampler.inputs)]: [{ package_id: 'old-xflux', versions: ['1.0.0'], rank: 1 }],
        'XlabsSampler::_': [{ package_id: 'someone-else', versions: [], rank: 1 }],
        'CannyEdgePreprocessor::_': [{ package_id: 'comfyui_controlnet_aux', versions: ['1.0.7'], rank: 1 }],
      },
      packages: { 'x-flux-comfyui': { repository: 'https://github.com/XLabs-AI/x-flux-comfyui' } },
    })
    const { ws, env } = await makeWorkspaceWithEnv({}, { registry_url: server.url, node_mappings_url: `${server.url}/node_mappings.json` })
    const res = await createNodeResolver(ws, env).resolve(queries)
    const byType = Object.fromEntries(res.map(r => [r.type, r.candidates]))
    expect(byType.XlabsSampler.map(c => c.packId)).toEqual(['x-flux-comfyui', 'someone-else'])
    expect(byType.XlabsSampler[0]).toMatchObject({ source: 'mappings', version: '1.0.0', repository: 'https://github.com/XLabs-AI/x-flux-comfyui' })
    expect(byType.CannyEdgePreprocessor[0].packId).toBe('comfyui_controlnet_aux')
    expect(byType.LoadFluxControlNet).toEqual([])
  })

  it('answers from the cache when the registry is down, and says so', async () => {
    const local = await startRegistryServer([{ id: 'comfyui-impact-pack', versions: [{ version: '8.0.0', classes: ['SAMLoader'] }] }])
    const { ws, env } = await makeWorkspaceWithEnv({}, { registry_url: local.url, node_mappings_url: `${local.url}/node_mappings.json` })
    const first = await createNodeResolver(ws, env).resolve([{ type: 'SAMLoader' }])
    await local.stop()
    const notes: string[] = []
    const cached = await createNodeResolver(ws, env).resolve([{ type: 'SAMLoader' }])
    expect(cached).toEqual(first)
    // past the TTL the client refetches, fails, and serves the stale copy with a warning
    const { ResponseCache } = await import('../../sidecar/nodes/registry')
    const db = new ResponseCache(ws.cache.registryDb)
    for (const u of [`${local.url}/comfy-nodes/SAMLoader/node`, `${local.url}/nodes/search?comfy_node_search=SAMLoader&limit=20`]) {
      const hit = db.get(u)!
      db.put(u, hit.status, hit.body, 0)
    }
    db.close()
    const stale = await createNodeResolver(ws, env, { onProgress: e => { if (e.phase === 'note') notes.push(e.message ?? '') } }).resolve([{ type: 'SAMLoader' }])
    expect(stale).toEqual(first)
    expect(notes.join('\n')).toMatch(/unreachable; answers come from the cache/)
  })
})

describe('picking a candidate', () => {
  const res = {
    type: 'SAMLoader',
    candidates: [
      { packId: 'impact-fork', source: 'registry' as const, rank: 1, installed: false },
      { packId: 'comfyui-impact-pack', source: 'registry' as const, rank: 2, installed: true },
    ],
  }
  it('refuses to pick among several packs without --yes or a chooser', async () => {
    await expect(pickCandidate(res)).rejects.toMatchObject({ code: 'NODE_AMBIGUOUS' })
  })
  it('with --yes takes the installed pack and says so', async () => {
    const pick = await pickCandidate(res, { yes: true })
    expect(pick).toMatchObject({ reason: 'installed', candidate: { packId: 'comfyui-impact-pack' } })
    expect(pick?.message).toContain('took comfyui-impact-pack (installed) over impact-fork')
  })
  it('with --yes and nothing installed takes the top rank', async () => {
    const pick = await pickCandidate({ ...res, candidates: res.candidates.map(c => ({ ...c, installed: false })) }, { yes: true })
    expect(pick).toMatchObject({ reason: 'top-rank', candidate: { packId: 'impact-fork' } })
  })
  it('lets the chooser decide', async () => {
    const pick = await pickCandidate(res, { choose: async r => r.candidates[1] })
    expect(pick).toMatchObject({ reason: 'chosen', candidate: { packId: 'comfyui-impact-pack' } })
  })
})
