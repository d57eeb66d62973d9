import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ComfydockError } from '../../sidecar/errors'
import { parseManifest, readManifest, serializeManifest, withManifestTransaction, writeManifest } from '../../sidecar/manifest'
import { makeTempDir } from '../support/temp-dir'

describe('pyproject manifest', () => {
  it('reports file, line and column for a parse error', () => {
    try {
      parseManifest('[project]\nname = "x"\ndependencies = [\n', '/env/.cec/pyproject.toml')
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(ComfydockError)
      expect((err as ComfydockError).code).toBe('MANIFEST_PARSE_ERROR')
      expect((err as Error).message).toMatch(/^\/env\/\.cec\/pyproject\.toml:\d+:\d+: /)
    }
  })

  it('writes sections in the original order and round-trips', async () => {
    const file = join(makeTempDir(), 'pyproject.toml')
    await writeManifest(file, {
      tool: { comfydock: { models: { abcd: { filename: 'm.safetensors', size: 1 } }, nodes: { b: { name: 'b', version: '1', source: 'registry' } }, python_version: '3.11', comfyui_version: 'v0.3.7' } },
      project: { name: 'comfydock-env-x', version: '0.1.0', dependencies: ['aiohttp'] },
      'dependency-groups': { 'b-12345678': ['numpy'] },
    })
    const text = readFileSync(file, 'utf8')
    const order = ['[project]', '[dependency-groups]', '[tool.comfydock]', '[tool.comfydock.nodes.b]', '[tool.comfydock.models.abcd]'].map(s => text.indexOf(s))
    expect(order.every(i => i >= 0)).toBe(true)
    expect([...order].sort((a, b) => a - b)).toEqual(order)
    expect(text.indexOf('comfyui_version')).toBeLessThan(text.indexOf('python_version'))
    const back = await readManifest(file)
    expect(serializeManifest(back)).toBe(text)
  })

  it('puts the original bytes back when a transaction fails', async () => {
    const file = join(makeTempDir(), 'pyproject.toml')
    writeFileSync(file, '# mine\n[project]\nname = "x"\nversion = "0.1.0"\ndependencies = []\n')
    const before = readFileSync(file)
    await expect(withManifestTransaction(file, async doc => {
      doc.project.dependencies.push('broken')
      await writeManifest(file, doc)
      throw new Error('sync failed')
    })).rejects.toThrow('sync failed')
    expect(readFileSync(file).equals(before)).toBe(true)
  })
})
