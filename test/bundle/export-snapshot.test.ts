/**
 * `export --format comfyui-manager-snapshot`: what ComfyUI-Manager, comfy-cli and other tools read, written
 * from a real environment, read back by our importer into the same packs; and every export warns about
 * sources that only this machine can reach.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exportEnvironment, importSnapshot, readForeignSnapshot } from '../../sidecar/bundle'
import { readManifest } from '../../sidecar/manifest'
import { runCliAsync } from '../support/cli'
import { makeTempDir } from '../support/temp-dir'
import { makeWorld, type World } from './support/world'

let world: World
beforeAll(async () => { world = await makeWorld(makeTempDir('snapshot-export')) }, 240_000)
afterAll(async () => { await world?.close() })

describe('export --format comfyui-manager-snapshot', () => {
  it('writes ComfyUI, registry and git packs and the venv as cm-cli does, and says what the format cannot carry', async () => {
    const out = join(makeTempDir('snap-out'), 'portraits.json')
    const res = await runCliAsync(['-e', 'portraits', 'export', out, '--format', 'comfyui-manager-snapshot', '--json'], { workspace: world.src.ws.root })
    expect(res.code, res.stderr).toBe(0)
    const snap = JSON.parse(readFileSync(out, 'utf8'))
    expect(Object.keys(snap)).toEqual(['comfyui', 'git_custom_nodes', 'cnr_custom_nodes', 'file_custom_nodes', 'pips'])
    expect(snap.comfyui).toBe(world.comfyui.tags['v0.3.7'])
    expect(snap.cnr_custom_nodes).toEqual({ 'comfyui-impact-pack': '8.1.0' })
    expect(snap.git_custom_nodes).toEqual({ [world.gitPack.fileUrl]: { hash: world.gitPack.commits[0], disabled: false } })
    expect(snap.pips).toMatchObject({ 'comfy-dep-a==1.1': '', 'comfy-dep-b==2.0': '' })
    const warnings = res.json<{ warnings: string[] }>().warnings.join('\n')
    expect(warnings).toContain('development nodes are not in the snapshot')
    expect(warnings).toContain('carries no models or workflows')
    expect(warnings).toContain(`pack my-git-pack comes from ${world.gitPack.fileUrl}, which will not resolve on another machine`)
    expect(warnings).toMatch(/model sd_xl_base_1\.0\.safetensors can only be downloaded from http:\/\/127\.0\.0\.1:\d+/)
  })

  it('writes the YAML form (wrapped in custom_nodes) for a .yaml name, and our importer reads it back to the same packs', async () => {
    const out = join(makeTempDir('snap-yaml'), 'portraits.yaml')
    const res = await runCliAsync(['-e', 'portraits', 'export', out, '--format', 'comfyui-manager-snapshot'], { workspace: world.src.ws.root })
    expect(res.code, res.stderr).toBe(0)
    expect(Object.keys(parseYaml(readFileSync(out, 'utf8')))).toEqual(['custom_nodes'])
    expect((await readForeignSnapshot(out)).packs.map(p => p.spec).sort()).toEqual([`${world.gitPack.fileUrl}@${world.gitPack.commits[0]}`, 'comfyui-impact-pack@8.1.0'].sort())
    const ws = await world.newWorkspace('ws-roundtrip')
    const back = await importSnapshot(ws, out)
    expect(back.ok, JSON.stringify(back.nodes.failed)).toBe(true)
    const src = (await readManifest(world.src.env.pyproject)).tool.comfydock.nodes!
    const dst = (await readManifest(ws.env(back.name).pyproject)).tool.comfydock.nodes!
    const packs = (n: typeof src) => Object.values(n).filter(e => e.source !== 'development').map(e => `${e.source}:${e.version}`).sort()
    expect(packs(dst)).toEqual(packs(src))
  }, 180_000)

  it('refuses a file name that is not .json or .yaml', async () => {
    const res = await runCliAsync(['-e', 'portraits', 'export', join(makeTempDir('snap-bad'), 'x.tar.gz'), '--format', 'comfyui-manager-snapshot'], { workspace: world.src.ws.root })
    expect(res.code).toBe(1)
    expect(res.stderr).toContain('a ComfyUI-Manager snapshot is a .json or .yaml file')
  })
})

describe('every export', () => {
  it('warns about pack and model sources that will not resolve on another machine', async () => {
    const res = await exportEnvironment(world.src.ws, world.src.env, { output: makeTempDir('bundle-out') })
    const warnings = res.summary.warnings.join('\n')
    expect(warnings).toContain(`pack my-git-pack comes from ${world.gitPack.fileUrl}`)
    // The test registry is on loopback, so the pinned archive URL is machine-local too.
    expect(warnings).toMatch(/pack comfyui-impact-pack comes from http:\/\/127\.0\.0\.1:\d+\/files\//)
    expect(warnings).toMatch(/model control_canny\.safetensors can only be downloaded from http:\/\/127\.0\.0\.1/)
  })
})
