import { describe, expect, it } from 'vitest'
import { parseManifest, serializeManifest, type NodeEntry, type Pyproject } from '../../sidecar/manifest'
import { packGroupName } from '../../sidecar/nodes'
import { describeChanges, mergeCec, type CecSnapshot } from '../../sidecar/remote/merge'

const registry = (version: string, name = 'ComfyUI-Impact-Pack'): NodeEntry => ({
  name, registry_id: 'impact', repository: `https://github.com/x/${name}`, version, source: 'registry',
  download_url: `http://registry/impact-${version}.zip`,
})
const wfJson = (widgets: string, offset = [0, 0]): string => JSON.stringify({
  last_node_id: 1, last_link_id: 0, version: 0.4, links: [], groups: [],
  nodes: [{ id: 1, type: 'CheckpointLoaderSimple', pos: [10, 10], size: [300, 100], widgets_values: [widgets], mode: 0, flags: {}, order: 0, inputs: [], outputs: [] }],
  extra: { ds: { scale: 1, offset } },
}, null, 2)

function snapshot (edit: (doc: Pyproject, files: Record<string, string>) => void = () => undefined, from?: CecSnapshot): CecSnapshot {
  const doc: Pyproject = from
    ? structuredClone(from.manifest)
    : {
        project: { name: 'comfydock-env-team', version: '0.1.0', 'requires-python': '>=3.11', dependencies: ['torch', 'pillow>=9'] },
        'dependency-groups': { [packGroupName('impact', registry('8.0.0'))]: ['ultralytics'] },
        tool: {
          comfydock: {
            schema_version: 1, comfyui_version: 'v0.3.7', comfyui_version_type: 'release', comfyui_commit_sha: 'a'.repeat(40), python_version: '3.11',
            nodes: { impact: registry('8.0.0') },
            workflows: { portrait: { path: 'workflows/portrait.json', nodes: ['CheckpointLoaderSimple'] } },
            models: { '1111111111111111': { filename: 'sd.safetensors', size: 10, category: 'checkpoints', sources: ['https://a/sd'] } },
          },
        },
      }
  const files = from ? { ...from.files } : { 'workflows/portrait.json': wfJson('sd.safetensors'), '.gitignore': 'local.json\n', 'uv.lock': 'lock-0\n' }
  edit(doc, files)
  return { manifest: doc, files }
}

/** The merged manifest always survives a round trip through TOML, and workflow files stay JSON. */
function expectWhole (result: CecSnapshot | undefined): CecSnapshot {
  expect(result).toBeDefined()
  const text = serializeManifest(result!.manifest)
  expect(parseManifest(text).tool.comfydock).toEqual(parseManifest(serializeManifest(result!.manifest)).tool.comfydock)
  for (const [path, body] of Object.entries(result!.files)) if (path.endsWith('.json')) expect(() => JSON.parse(body), path).not.toThrow()
  return result!
}

describe('semantic merge of two versions of an environment', () => {
  const base = snapshot()

  it('keeps the packs, models and workflows both sides added, with each pack\'s own requirements', () => {
    const mine = snapshot((d, f) => {
      d.tool.comfydock.nodes!.kjnodes = { ...registry('1.0.0', 'ComfyUI-KJNodes'), registry_id: 'kjnodes' }
      d['dependency-groups']![packGroupName('kjnodes', d.tool.comfydock.nodes!.kjnodes)] = ['color-matcher']
      d.tool.comfydock.models!['2222222222222222'] = { filename: 'lora.safetensors', size: 5, category: 'loras' }
      d.tool.comfydock.workflows!.mine = { path: 'workflows/mine.json', nodes: [] }
      f['workflows/mine.json'] = wfJson('lora.safetensors')
    }, base)
    const theirs = snapshot((d, f) => {
      d.tool.comfydock.nodes!.rgthree = { name: 'rgthree-comfy', registry_id: 'rgthree', version: 'b'.repeat(40), source: 'git', repository: 'https://github.com/rgthree/rgthree-comfy' }
      d['dependency-groups']![packGroupName('rgthree', d.tool.comfydock.nodes!.rgthree)] = ['pyyaml']
      d.tool.comfydock.models!['3333333333333333'] = { filename: 'vae.safetensors', size: 7, category: 'vae' }
      d.tool.comfydock.workflows!.theirs = { path: 'workflows/theirs.json', nodes: [] }
      f['workflows/theirs.json'] = wfJson('vae.safetensors')
    }, base)
    const out = mergeCec(base, mine, theirs)
    expect(out.conflicts).toEqual([])
    const r = expectWhole(out.result)
    const c = r.manifest.tool.comfydock
    expect(Object.keys(c.nodes!).sort()).toEqual(['impact', 'kjnodes', 'rgthree'])
    expect(Object.keys(c.models!).sort()).toEqual(['1111111111111111', '2222222222222222', '3333333333333333'])
    expect(Object.keys(c.workflows!).sort()).toEqual(['mine', 'portrait', 'theirs'])
    expect(Object.values(r.manifest['dependency-groups']!).sort()).toEqual([['color-matcher'], ['pyyaml'], ['ultralytics']])
    expect(r.files['workflows/mine.json']).toBe(mine.files['workflows/mine.json'])
    expect(r.files['workflows/theirs.json']).toBe(theirs.files['workflows/theirs.json'])
  })

  it('the same pack at two versions is a conflict showing both; the choice brings that side\'s requirements', () => {
    const mine = snapshot(d => {
      d.tool.comfydock.nodes!.impact = registry('8.1.0')
      d['dependency-groups']![packGroupName('impact', registry('8.1.0'))] = ['ultralytics>=8.1']
    }, base)
    const theirs = snapshot(d => {
      d.tool.comfydock.nodes!.impact = registry('8.2.0')
      d['dependency-groups']![packGroupName('impact', registry('8.2.0'))] = ['ultralytics>=8.2', 'dill']
    }, base)
    const open = mergeCec(base, mine, theirs)
    expect(open.result).toBeUndefined()
    expect(open.unresolved).toEqual(['node:impact'])
    expect(open.conflicts[0]).toMatchObject({ id: 'node:impact', kind: 'node', mine: { summary: '8.1.0 (registry)' }, theirs: { summary: '8.2.0 (registry)' }, choices: ['mine', 'theirs'] })

    const t = expectWhole(mergeCec(base, mine, theirs, { 'node:impact': 'theirs' }).result)
    expect(t.manifest.tool.comfydock.nodes!.impact.version).toBe('8.2.0')
    expect(Object.values(t.manifest['dependency-groups']!)).toEqual([['ultralytics>=8.2', 'dill']])
    const m = expectWhole(mergeCec(base, mine, theirs, () => 'mine').result)
    expect(m.manifest.tool.comfydock.nodes!.impact.version).toBe('8.1.0')
    expect(Object.values(m.manifest['dependency-groups']!)).toEqual([['ultralytics>=8.1']])
  })

  it('a pack removed on one side and untouched on the other is removed with its requirements; removed vs upgraded is a conflict', () => {
    const removed = snapshot(d => { delete d.tool.comfydock.nodes!.impact; d['dependency-groups'] = {} }, base)
    const untouched = snapshot(d => { d.tool.comfydock.workflows!.portrait.nodes = ['X'] }, base)
    const r = expectWhole(mergeCec(base, removed, untouched).result)
    expect(r.manifest.tool.comfydock.nodes).toEqual({})
    expect(r.manifest['dependency-groups']).toEqual({})
    const upgraded = snapshot(d => { d.tool.comfydock.nodes!.impact = registry('9.0.0') }, base)
    const c = mergeCec(base, removed, upgraded)
    expect(c.conflicts.map(x => [x.id, x.mine.summary, x.theirs.summary])).toEqual([['node:impact', 'removed', '9.0.0 (registry)']])
  })

  it('a model both sides changed is never a conflict: sources add up and the stronger need wins', () => {
    const mine = snapshot(d => { Object.assign(d.tool.comfydock.models!['1111111111111111'], { sources: ['https://a/sd', 's3://team/models/abc'], criticality: 'optional' }) }, base)
    const theirs = snapshot(d => { Object.assign(d.tool.comfydock.models!['1111111111111111'], { sources: ['https://a/sd', 'https://mirror/sd'], criticality: 'required' }) }, base)
    const out = mergeCec(base, mine, theirs)
    expect(out.conflicts).toEqual([])
    expect(out.result!.manifest.tool.comfydock.models!['1111111111111111']).toMatchObject({ sources: ['https://a/sd', 's3://team/models/abc', 'https://mirror/sd'], criticality: 'required' })
  })

  it('the same workflow changed on both sides: mine, theirs, or both under two names', () => {
    const mine = snapshot((d, f) => { f['workflows/portrait.json'] = wfJson('mine.safetensors'); d.tool.comfydock.workflows!.portrait.nodes = ['A'] }, base)
    const theirs = snapshot((d, f) => { f['workflows/portrait.json'] = wfJson('theirs.safetensors'); d.tool.comfydock.workflows!.portrait.nodes = ['B'] }, base)
    const open = mergeCec(base, mine, theirs)
    expect(open.conflicts.map(c => [c.id, c.choices])).toEqual([['workflow:portrait', ['mine', 'theirs', 'both']]])

    const t = expectWhole(mergeCec(base, mine, theirs, { 'workflow:portrait': 'theirs' }).result)
    expect(t.files['workflows/portrait.json']).toBe(theirs.files['workflows/portrait.json'])
    const both = mergeCec(base, mine, theirs, { 'workflow:portrait': 'both' })
    const b = expectWhole(both.result)
    expect(b.files['workflows/portrait.json']).toBe(mine.files['workflows/portrait.json'])
    expect(b.files['workflows/portrait (theirs).json']).toBe(theirs.files['workflows/portrait.json'])
    expect(b.manifest.tool.comfydock.workflows!['portrait (theirs)']).toEqual({ path: 'workflows/portrait (theirs).json', nodes: ['B'] })
    expect(both.notes).toEqual(['workflow portrait: kept yours, and theirs as "portrait (theirs)"'])
  })

  it('a workflow whose canvas only moved on one side is no conflict', () => {
    const mine = snapshot((_d, f) => { f['workflows/portrait.json'] = wfJson('sd.safetensors', [120, -40]) }, base)
    const theirs = snapshot((_d, f) => { f['workflows/portrait.json'] = wfJson('new.safetensors') }, base)
    const out = mergeCec(base, mine, theirs)
    expect(out.conflicts).toEqual([])
    expect(out.result!.files['workflows/portrait.json']).toBe(theirs.files['workflows/portrait.json'])
  })

  it('Python requirements merge as packages: both additions kept, two specifiers for one package is a conflict', () => {
    const mine = snapshot(d => { d.project.dependencies.push('numpy<2') }, base)
    const theirs = snapshot(d => { d.project.dependencies = ['torch', 'pillow>=10', 'einops'] }, base)
    const r = expectWhole(mergeCec(base, mine, theirs).result)
    expect(r.manifest.project.dependencies).toEqual(['torch', 'pillow>=10', 'numpy<2', 'einops'])
    const clash = snapshot(d => { d.project.dependencies.push('numpy>=2') }, base)
    const c = mergeCec(base, mine, clash)
    expect(c.unresolved).toEqual(['requirement:project'])
  })

  it('ComfyUI moved on both sides is one conflict; a lock changed on both sides follows the merged manifest', () => {
    const mine = snapshot((d, f) => { Object.assign(d.tool.comfydock, { comfyui_version: 'v0.3.8', comfyui_commit_sha: 'c'.repeat(40) }); f['uv.lock'] = 'lock-mine\n' }, base)
    const theirs = snapshot((d, f) => { Object.assign(d.tool.comfydock, { comfyui_version: 'v0.3.9', comfyui_commit_sha: 'd'.repeat(40) }); f['uv.lock'] = 'lock-theirs\n' }, base)
    const open = mergeCec(base, mine, theirs)
    expect(open.conflicts.map(c => [c.id, c.mine.summary, c.theirs.summary])).toEqual([['comfyui', `ComfyUI v0.3.8 (${'c'.repeat(12)})`, `ComfyUI v0.3.9 (${'d'.repeat(12)})`]])
    const r = mergeCec(base, mine, theirs, { comfyui: 'mine' })
    expect(r.result!.manifest.tool.comfydock.comfyui_version).toBe('v0.3.8')
    expect(r.result!.files['uv.lock']).toBe('lock-theirs\n')
    expect(r.notes[0]).toContain('uv.lock')
  })

  it('describes what changes: packs, Python packages, models, workflows, versions', () => {
    const after = snapshot((d, f) => {
      d.tool.comfydock.nodes!.impact = registry('8.2.0')
      d.tool.comfydock.nodes!.rgthree = { name: 'rgthree-comfy', version: 'e'.repeat(40), source: 'git', repository: 'x' }
      d.project.dependencies.push('einops')
      d.tool.comfydock.models!['4444444444444444'] = { filename: 'up.pth', size: 1, category: 'upscale_models' }
      delete d.tool.comfydock.models!['1111111111111111']
      f['workflows/portrait.json'] = wfJson('up.pth')
      d.tool.comfydock.workflows!.extra = { path: 'workflows/extra.json', nodes: [] }
      f['workflows/extra.json'] = wfJson('x')
      d.tool.comfydock.comfyui_version = 'v0.3.9'
    }, base)
    const c = describeChanges(base, after)
    expect(c.packs).toEqual({ added: [{ name: 'rgthree', to: 'e'.repeat(12) }], removed: [], changed: [{ name: 'impact', from: '8.0.0', to: '8.2.0' }] })
    expect(c.python).toEqual({ added: ['einops'], removed: [] })
    expect(c.models).toEqual({ added: [{ name: 'up.pth', to: '4444444444444444' }], removed: [{ name: 'sd.safetensors', from: '1111111111111111' }] })
    expect(c.workflows).toEqual({ added: ['extra'], removed: [], changed: ['portrait'] })
    expect(c.comfyui).toEqual({ name: 'ComfyUI', from: 'v0.3.7', to: 'v0.3.9' })
    expect(c.empty).toBe(false)
    expect(describeChanges(base, snapshot(() => undefined, base)).empty).toBe(true)
  })

  it('any mix of edits on both sides, resolved either way, gives a manifest that reads back as TOML', () => {
    let seed = 7
    const rand = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n }
    const edits: Array<(d: Pyproject, f: Record<string, string>, tag: string) => void> = [
      (d, _f, tag) => { d.tool.comfydock.nodes![`p-${tag}`] = registry(`1.${rand(3)}.0`, `P${tag}`) },
      (d) => { d.tool.comfydock.nodes!.impact = registry(`8.${rand(4)}.0`) },
      (d) => { delete d.tool.comfydock.nodes!.impact },
      (d, _f, tag) => { d.project.dependencies.push(`pkg${rand(3)}>=${tag.length}`) },
      (d, f) => { f['workflows/portrait.json'] = wfJson(`m${rand(3)}.safetensors`); d.tool.comfydock.workflows!.portrait.nodes = [String(rand(3))] },
      (d) => { delete d.tool.comfydock.workflows!.portrait },
      (d) => { d.tool.comfydock.models!['1111111111111111'].sources = [`https://m/${rand(3)}`] },
      (d) => { d.tool.comfydock.python_version = `3.1${rand(3)}` },
      (_d, f) => { f['.gitignore'] = `x${rand(3)}\n` },
      (d) => { (d.tool as Record<string, unknown>).uv = { 'index-url': `https://i/${rand(3)}` } },
    ]
    for (let round = 0; round < 100; round++) {
      const side = (tag: string): CecSnapshot => snapshot((d, f) => { for (let i = 0; i < 1 + rand(3); i++) edits[rand(edits.length)](d, f, tag) }, base)
      const mine = side('mine'); const theirs = side('theirs')
      for (const pick of ['mine', 'theirs', 'both'] as const) {
        const out = mergeCec(base, mine, theirs, c => (c.choices.includes(pick) ? pick : 'theirs'))
        const r = expectWhole(out.result)
        for (const [name, wf] of Object.entries(r.manifest.tool.comfydock.workflows ?? {})) expect(r.files[wf.path], name).toBeDefined()
      }
    }
  })
})
