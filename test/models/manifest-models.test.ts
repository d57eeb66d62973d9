import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { addModelToManifest, getModelStatus, syncIndex } from '../../sidecar/models'
import { Workspace } from '../../sidecar/workspace'
import { makeTempDir } from '../support/temp-dir'
import { rejection } from './expect-error'

async function setup (): Promise<{ ws: Workspace, env: ReturnType<Workspace['env']> }> {
  const ws = (await Workspace.init(join(makeTempDir('mm'), 'ws'))).workspace
  const env = ws.env('dev')
  mkdirSync(env.cec, { recursive: true })
  writeFileSync(env.pyproject, '[project]\nname = "comfydock-env-dev"\nversion = "0.1.0"\ndependencies = []\n\n[tool.comfydock]\n')
  for (const [rel, content] of [['loras/a/style.safetensors', 'style one bytes'], ['loras/b/style.safetensors', 'style two bytes']]) {
    mkdirSync(join(ws.modelsDir, rel, '..'), { recursive: true })
    writeFileSync(join(ws.modelsDir, rel), content)
  }
  await syncIndex(ws)
  return { ws, env }
}

describe('addModelToManifest', () => {
  it('refuses an ambiguous name without a chooser, and takes the chosen model with one', async () => {
    const { ws, env } = await setup()
    const err = await rejection(addModelToManifest(ws, env, 'style.safetensors'))
    expect(err.code).toBe('MODEL_AMBIGUOUS')
    expect(err.hint).toContain('short hash')
    const m = await addModelToManifest(ws, env, 'style.safetensors', {
      optional: true,
      choose: async (_q, candidates) => candidates.find(c => c.locations[0].relPath.startsWith('loras/b/')),
    })
    expect(m).toMatchObject({ relativePath: 'loras/b/style.safetensors', criticality: 'optional', state: 'present' })
    expect(readFileSync(env.pyproject, 'utf8')).toContain('criticality = "optional"')
  })

  it('reports models the environment needs that are not on this machine', async () => {
    const { ws, env } = await setup()
    writeFileSync(env.pyproject, readFileSync(env.pyproject, 'utf8') + [
      '', '[tool.comfydock.models.0123456789abcdef]', 'filename = "gone.safetensors"', 'size = 10', 'category = "checkpoints"',
      'sources = [ "https://example.com/gone.safetensors" ]',
      '', '[tool.comfydock.models.fedcba9876543210]', 'filename = "lost.safetensors"', 'size = 10', 'category = "controlnet"', '',
    ].join('\n'))
    const status = await getModelStatus(ws, env)
    expect(status.total).toBe(2)
    expect(status.missing.map(m => m.filename)).toEqual(['gone.safetensors'])
    expect(status.missingNoSource.map(m => [m.filename, m.criticality])).toEqual([['lost.safetensors', 'required']])
  })
})
