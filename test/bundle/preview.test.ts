import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { freeEnvName, previewImport, readExtractedBundle } from '../../sidecar/bundle'
import { collectModelNeeds, markPresentModels } from '../../sidecar/env/repair'
import { serializeManifest } from '../../sidecar/manifest'
import { Workspace } from '../../sidecar/workspace'
import { makeTempDir } from '../support/temp-dir'
import { manifestFor } from './support/env-on-disk'

const HASH_A = 'aaaaaaaaaaaaaaaa'
const HASH_B = 'bbbbbbbbbbbbbbbb'

function writeBundleDir (dir: string, manifest: Record<string, unknown>): void {
  const doc = manifestFor({
    name: 'shared',
    workflows: ['default.json', 'canny_workflow.json'],
    models: {
      [HASH_A]: { filename: 'a.safetensors', size: 1000, relative_path: 'checkpoints/a.safetensors', sources: ['https://example.test/a'] },
      [HASH_B]: { filename: 'b.safetensors', size: 500, relative_path: 'controlnet/b.safetensors' },
    },
    workflowEntries: {
      default: { models: [{ filename: 'a.safetensors', category: 'checkpoints', criticality: 'optional', status: 'resolved', nodes: [], hash: HASH_A }] },
      canny_workflow: {
        models: [
          { filename: 'a.safetensors', category: 'checkpoints', criticality: 'flexible', status: 'resolved', nodes: [], hash: HASH_A },
          { filename: 'b.safetensors', category: 'controlnet', criticality: 'required', status: 'resolved', nodes: [], hash: HASH_B },
        ],
      },
    },
  })
  mkdirSync(join(dir, 'workflows'), { recursive: true })
  writeFileSync(join(dir, 'pyproject.toml'), serializeManifest(doc))
  for (const wf of ['default.json', 'canny_workflow.json']) writeFileSync(join(dir, 'workflows', wf), '{}')
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({
    format: 'comfydock-bundle', format_version: 1, timestamp: '2025-01-15T10:30:00.000Z', comfydock_version: '0.1.0',
    environment_name: 'shared', workflows: ['canny_workflow.json', 'default.json'], dev_nodes: [], python_version: '3.11',
    comfyui_version: 'v0.3.7', platform: process.platform, total_models: 2, total_nodes: 0,
    totals: { workflows: 2, nodes: 0, registry_nodes: 0, git_nodes: 0, dev_nodes: 0, models: 2, model_bytes: 1500 },
    ...manifest,
  }))
}

async function preview (manifest: Record<string, unknown> = {}, name?: string) {
  const root = makeTempDir('preview')
  const { workspace } = await Workspace.init(join(root, 'ws'))
  const dir = join(root, 'bundle')
  writeBundleDir(dir, manifest)
  const bundle = await readExtractedBundle(dir)
  const needs = await markPresentModels(workspace, collectModelNeeds(bundle.pyproject))
  return { ws: workspace, p: await previewImport(workspace, bundle, needs, name) }
}

describe('import preview', () => {
  it('aggregates models across workflows by hash with the strongest criticality and sums sizes', async () => {
    const { p } = await preview()
    expect(p.models).toMatchObject({
      unique: 2, bytes: 1500,
      required: { count: 1, bytes: 500 }, flexible: { count: 1, bytes: 1000 }, optional: { count: 0, bytes: 0 },
      local: { count: 0 }, missing: { count: 2, bytes: 1500 }, no_source: ['b.safetensors'],
    })
    expect(p.warnings).toContain('1 model(s) have no download source and must be provided by hand: b.safetensors')
  })

  it('warns about a newer comfydock and another platform', async () => {
    const other = process.platform === 'win32' ? 'linux' : 'win32'
    const { p } = await preview({ comfydock_version: '9.2.0', platform: other })
    expect(p.warnings.join('\n')).toContain('bundle made with a newer comfydock (9.2.0, this is 0.1.0)')
    expect(p.warnings.join('\n')).toContain(`bundle made on ${other}, importing on ${process.platform}`)
  })

  it('picks NAME-1, NAME-2 when the name is taken', async () => {
    const { ws } = await preview()
    // a complete environment: its .complete marker is written last
    const complete = (name: string): void => { mkdirSync(ws.env(name).cec, { recursive: true }); writeFileSync(ws.env(name).completeMarker, '') }
    complete('shared')
    expect(await freeEnvName(ws, 'shared')).toBe('shared-1')
    complete('shared-1')
    expect(await freeEnvName(ws, 'shared')).toBe('shared-2')
    // a half-made folder is reported, never worked around with another name
    mkdirSync(ws.env('half').root)
    await expect(freeEnvName(ws, 'half')).rejects.toMatchObject({ code: 'ENV_INCOMPLETE' })
    await expect(freeEnvName(ws, '../evil')).rejects.toMatchObject({ code: 'ENV_INVALID_NAME' })
  })
})
