/**
 * Finding 5 of issue 11: a pack's node types are known without the network once it is added, so offline
 * resolution, status and `node prune` agree, and prune never removes a pack a tracked workflow uses.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readManifest, writeManifest } from '../../sidecar/manifest'
import { addNodes, createNodeResolver, planPrune } from '../../sidecar/nodes'
import { mappingKeysInSource } from '../../sidecar/nodes/node-classes'
import { getWorkflowStatus, prepareWorkflowCommit } from '../../sidecar/workflows'
import { startRegistryServer, type RegistryServer } from '../support/registry-server'
import { makeWorkspaceWithEnv } from './env-fixture'

// laid out as ComfyUI_IPAdapter_plus is: __init__.py re-exports the mappings of a module beside it
const IPADAPTER_FILES = {
  '__init__.py': 'from .IPAdapterPlus import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS\n\n__all__ = ["NODE_CLASS_MAPPINGS"]\n',
  'IPAdapterPlus.py': [
    'class IPAdapterAdvanced:', '    pass', 'class IPAdapterSimple:', '    pass',
    'NODE_CLASS_MAPPINGS = {',
    '    # Main Apply Nodes',
    '    "IPAdapter": IPAdapterSimple,',
    '    "IPAdapterAdvanced": IPAdapterAdvanced,',
    "    'IPAdapterModelLoader': IPAdapterModelLoader,",
    '}',
    'NODE_DISPLAY_NAME_MAPPINGS = { "IPAdapter": "IPAdapter" }',
  ].join('\n'),
}

let server: RegistryServer
beforeAll(async () => {
  server = await startRegistryServer([
    { id: 'comfyui_ipadapter_plus', versions: [{ version: '2.0.0', files: IPADAPTER_FILES }] },
    { id: 'v3-pack', versions: [{ version: '1.0.0', files: { '__init__.py': 'async def comfy_entrypoint():\n    return Ext()\n' }, classes: ['V3Node'] }] },
  ])
})
afterAll(async () => { await server?.stop() })

const workflow = JSON.stringify({ nodes: [{ id: 1, type: 'IPAdapterAdvanced', widgets_values: [] }, { id: 2, type: 'KSampler', widgets_values: [] }], links: [] })

describe('node classes without the network', () => {
  it('reads NODE_CLASS_MAPPINGS keys statically in the shapes packs write them', () => {
    expect(mappingKeysInSource([
      'NODE_CLASS_MAPPINGS = {"A": A, \'B\': B, "C" : C,  # c',
      '  **OTHER, "D": make("x: y"), }',
      'NODE_CLASS_MAPPINGS.update({"E": E})',
      'NODE_CLASS_MAPPINGS["F"] = F',
      'if NODE_CLASS_MAPPINGS == {"G": 1}: pass',
      'NODE_CLASS_MAPPINGS: dict = {"H": H}',
    ].join('\n'))).toEqual(['A', 'B', 'C', 'D', 'E', 'F', 'H'])
  })

  it('right after node add, offline: the pack resolves its types, status knows them and prune keeps it', async () => {
    const { ws, env } = await makeWorkspaceWithEnv({}, { registry_url: server.url, node_mappings_url: `${server.url}/node_mappings.json` })
    const added = await addNodes(ws, env, ['comfyui_ipadapter_plus', 'v3-pack'], { syncPython: false })
    expect(added.ok).toBe(true)
    const doc = await readManifest(env.pyproject)
    expect(doc.tool.comfydock.nodes?.comfyui_ipadapter_plus.node_classes).toEqual(['IPAdapter', 'IPAdapterAdvanced', 'IPAdapterModelLoader'])
    // a pack whose source names no mappings: the registry's answer at install time is recorded
    expect(doc.tool.comfydock.nodes?.['v3-pack'].node_classes).toEqual(['V3Node'])

    // a workflow tracked before the pack was known: its entry names no pack
    mkdirSync(env.cecWorkflows, { recursive: true })
    mkdirSync(env.userWorkflows, { recursive: true })
    writeFileSync(join(env.cecWorkflows, 'portrait.json'), workflow)
    writeFileSync(join(env.userWorkflows, 'portrait.json'), workflow)
    doc.tool.comfydock.workflows = { portrait: { path: 'workflows/portrait.json', nodes: [] } }
    await writeManifest(env.pyproject, doc)

    await server.stop()
    const [res, v3] = await createNodeResolver(ws, env, { network: false }).resolve([{ type: 'IPAdapterAdvanced' }, { type: 'V3Node' }])
    expect(res.candidates.map(c => [c.packId, c.installed])).toEqual([['comfyui_ipadapter_plus', true]])
    expect(v3.candidates.map(c => c.packId)).toEqual(['v3-pack'])

    const status = await getWorkflowStatus(ws, env, { network: false })
    expect(status.workflows[0].issues.filter(i => i.kind === 'node')).toEqual([])

    expect(await planPrune(env)).toEqual({ remove: ['v3-pack'], keep: ['comfyui_ipadapter_plus'] })
  })

  it('an imported pack whose manifest entry records no classes is read from its folder', async () => {
    const { ws, env } = await makeWorkspaceWithEnv({ nodes: { 'ipa': { name: 'ipa', version: '2.0.0', source: 'registry', registry_id: 'ipa' } } })
    mkdirSync(join(env.customNodes, 'ipa'))
    for (const [f, text] of Object.entries(IPADAPTER_FILES)) writeFileSync(join(env.customNodes, 'ipa', f), text)
    mkdirSync(env.cecWorkflows, { recursive: true })
    writeFileSync(join(env.cecWorkflows, 'portrait.json'), workflow)
    const doc = await readManifest(env.pyproject)
    doc.tool.comfydock.workflows = { portrait: { path: 'workflows/portrait.json', nodes: [] } }
    await writeManifest(env.pyproject, doc)
    const [res] = await createNodeResolver(ws, env, { network: false }).resolve([{ type: 'IPAdapter' }])
    expect(res.candidates.map(c => c.packId)).toEqual(['ipa'])
    expect((await planPrune(env)).remove).toEqual([])
  })

  it('a commit with the running ComfyUI\'s object_info records the classes it reports for each pack', async () => {
    const { ws, env } = await makeWorkspaceWithEnv({ nodes: { 'ipa': { name: 'ipa', version: '2.0.0', source: 'registry', registry_id: 'ipa', node_classes: ['IPAdapter'] } } })
    mkdirSync(join(env.customNodes, 'ipa'))
    mkdirSync(env.userWorkflows, { recursive: true })
    writeFileSync(join(env.userWorkflows, 'portrait.json'), workflow)
    const doc = await readManifest(env.pyproject)
    doc.tool.comfydock.workflows = { portrait: { path: 'workflows/portrait.json', nodes: [] } }
    await writeManifest(env.pyproject, doc)
    const objectInfo = {
      IPAdapterAdvanced: { python_module: 'custom_nodes.ipa', input: {} },
      IPAdapterMadeAtRuntime: { python_module: 'custom_nodes.ipa.nodes', input: {} },
      KSampler: { python_module: 'nodes', input: {} },
    }
    await prepareWorkflowCommit(ws, env, { objectInfo, allowIssues: true, network: false })
    expect((await readManifest(env.pyproject)).tool.comfydock.nodes!.ipa.node_classes).toEqual(['IPAdapter', 'IPAdapterAdvanced', 'IPAdapterMadeAtRuntime'])
    // offline, without ComfyUI, the runtime class is known
    const [res] = await createNodeResolver(ws, env, { network: false }).resolve([{ type: 'IPAdapterMadeAtRuntime' }])
    expect(res.candidates.map(c => c.packId)).toEqual(['ipa'])
  })
})
