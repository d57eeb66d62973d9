/**
 * `comfydock adopt`: a ComfyUI the user set up by hand (git packs, a registry pack, a development node, a
 * loose file, a disabled pack, models in models/ and in a folder named by extra_model_paths.yaml, saved
 * workflows, a venv) becomes an environment whose status is clean and whose export imports elsewhere,
 * while the user's folder is only read.
 */
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readManifest } from '../../sidecar/manifest'
import { ModelIndex } from '../../sidecar/models'
import { CLI, runCliAsync } from '../support/cli'
import {
  DISABLED_PACK, GIT_PACK, makeExistingInstall, makePeerWorld, MODELS_PACK, REGISTRY_PACK, useWorldEnv,
  type ExistingInstall, type PeerWorld,
} from '../support/peer-world'
import { makeTempDir } from '../support/temp-dir'

let world: PeerWorld
let install: ExistingInstall
let restoreEnv: () => void

/** Every path under `dir` with its size and mtime: the user's folder must come out of adopt the same. */
function fingerprint (dir: string): string[] {
  const out: string[] = []
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      const s = statSync(p, { throwIfNoEntry: false })
      out.push(`${relative(dir, p)} ${e.isDirectory() ? 'dir' : s?.size} ${s?.mtimeMs}`)
      if (e.isDirectory()) walk(p)
    }
  }
  walk(dir)
  return out.sort()
}

/** The CLI on a real terminal (a pty from util-linux `script`), answering each prompt once it shows. */
function runOnTty (args: string[], answers: Array<[RegExp, string]>): Promise<string> {
  const cmd = [process.execPath, CLI, ...args].map(a => `'${a.replace(/'/g, "'\\''")}'`).join(' ')
  const child = spawn('script', ['-qec', cmd, '/dev/null'], { env: { ...process.env, NO_COLOR: '1', TERM: 'xterm' } })
  let out = ''
  let next = 0
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      if (next < answers.length && answers[next][0].test(out)) child.stdin.write(answers[next++][1])
    })
    child.on('error', reject)
    child.on('close', () => resolve(out))
  })
}

beforeAll(async () => {
  const root = makeTempDir('adopt')
  world = await makePeerWorld(join(root, 'world'))
  restoreEnv = useWorldEnv(world)
  install = await makeExistingInstall(world, join(root, 'user'))
}, 180_000)
afterAll(async () => { restoreEnv?.(); await world?.close() })


describe('comfydock adopt', () => {
  it('makes a clean environment from an existing ComfyUI, leaves the folder untouched, and its export imports elsewhere', async () => {
    const before = fingerprint(install.comfyui)
    const ws = await world.newWorkspace()
    const res = await runCliAsync(['adopt', install.comfyui, 'mine', '--yes', '--json'], { workspace: ws.root })
    expect(res.code, res.stderr).toBe(0)
    const out = res.json()
    expect(fingerprint(install.comfyui)).toEqual(before)
    // By default the user's workflows and development nodes are copied, and the summary says so.
    expect(out.copied).toMatchObject({ workflows: ['portrait.json'], dev_nodes: ['my-dev-node'], files: 3 })
    expect(out.referenced).toEqual({ model_dirs: [join(install.comfyui, 'models'), install.extraModels], dev_nodes: [] })

    const env = ws.env('mine')
    const doc = await readManifest(env.pyproject)
    const c = doc.tool.comfydock
    expect(c.comfyui_commit_sha).toBe(world.comfyui.tags['v0.3.7'])
    expect(c.nodes?.[REGISTRY_PACK]).toMatchObject({ source: 'registry', version: '1.1.0' })
    expect(c.nodes?.[GIT_PACK]).toMatchObject({ source: 'git', version: world.git[GIT_PACK].commits[0] })
    expect(c.nodes?.[MODELS_PACK]).toMatchObject({ source: 'git', version: world.git[MODELS_PACK].commits[0] })
    expect(c.nodes?.['my-dev-node']).toMatchObject({ source: 'development' })
    expect(readFileSync(join(env.customNodes, 'my-dev-node', '__init__.py'), 'utf8')).toContain('MyDevNode')
    // What could not be carried over is listed with the reason.
    expect(out.not_adopted).toEqual(expect.arrayContaining([
      { item: 'loose_node.py', reason: expect.stringContaining('loose .py file') },
      { item: `.disabled/${DISABLED_PACK}`, reason: 'disabled in this ComfyUI' },
      { item: 'torch==2.5.1', reason: expect.stringContaining('machine-local') },
    ]))
    // The venv's packages are pinned and installed.
    expect(doc['dependency-groups']?.['adopted-pips']).toEqual(expect.arrayContaining(['fixture-extra-pip==2.0', 'comfy-dep-b==2.0']))
    expect(execFileSync(join(env.venv, 'bin', 'python'), ['-c', 'import fixture_extra_pip; print(fixture_extra_pip.__version__)'], { encoding: 'utf8' }).trim()).toBe('2.0')
    // Models are indexed where they are, and ComfyUI is pointed at those folders; nothing was copied.
    const index = ModelIndex.open(ws)
    try {
      const paths = index.list().flatMap(m => m.locations.map(l => join(l.baseDir, l.relPath)))
      expect(paths).toEqual(expect.arrayContaining([
        join(install.comfyui, 'models', 'checkpoints', 'fixture_base.safetensors'),
        join(install.comfyui, 'models', 'ipadapter', 'fixture_ipadapter.bin'),
        join(install.extraModels, 'loras', 'extra_style.safetensors'),
      ]))
    } finally { index.close() }
    expect(readdirSync(ws.modelsDir)).toEqual([])
    const yaml = readFileSync(env.extraModelPaths, 'utf8')
    expect(yaml).toContain(`base_path: ${join(install.comfyui, 'models')}`)
    expect(yaml).toContain(join(install.extraModels, 'loras'))
    // The saved workflow is tracked and committed, its models resolved by hash.
    const wf = c.workflows?.portrait
    expect(wf?.models?.map(m => [m.filename, m.category, m.status])).toEqual([
      ['fixture_base.safetensors', 'checkpoints', 'resolved'],
      ['fixture_detail.safetensors', 'loras', 'resolved'],
    ])

    const status = await runCliAsync(['-e', 'mine', 'status', '--json'], { workspace: ws.root })
    expect(status.code, status.stdout + status.stderr).toBe(0)
    const sections = status.json().sections as Record<string, { ok: boolean, summary: string }>
    expect(Object.entries(sections).filter(([, s]) => !s.ok).map(([k, s]) => `${k}: ${s.summary}`)).toEqual([])

    const bundle = join(makeTempDir('adopt-export'), 'mine.tar.gz')
    const exp = await runCliAsync(['-e', 'mine', 'export', bundle, '--json'], { workspace: ws.root })
    expect(exp.code, exp.stderr).toBe(0)
    // Elsewhere: another machine that has the workflow's models already (nothing to download).
    const other = await world.newWorkspace()
    world.writeModels(other.modelsDir)
    expect((await runCliAsync(['model', 'index', 'sync', '--json'], { workspace: other.root })).code).toBe(0)
    const imp = await runCliAsync(['import', bundle, '--name', 'theirs', '--models', 'skip', '--yes', '--json'], { workspace: other.root })
    expect(imp.code, imp.stderr).toBe(0)
    // The same packs at the same versions, the workflow with its models found, and a clean status there too.
    const pins = (nodes: Record<string, { source?: string, version?: string }>) => Object.fromEntries(Object.entries(nodes).map(([id, n]) => [id, `${n.source}@${n.version ?? ''}`]))
    const theirs = (await readManifest(other.env('theirs').pyproject)).tool.comfydock
    expect(pins(theirs.nodes ?? {})).toEqual(pins(c.nodes ?? {}))
    expect(Object.keys(theirs.workflows ?? {})).toEqual(['portrait'])
    const theirStatus = await runCliAsync(['-e', 'theirs', 'status', '--json'], { workspace: other.root })
    const theirSections = theirStatus.json().sections as Record<string, { ok: boolean, summary: string }>
    expect(Object.entries(theirSections).filter(([, s]) => !s.ok).map(([k, s]) => `${k}: ${s.summary}`), theirStatus.stdout).toEqual([])
  }, 300_000)

  it('links development nodes and leaves workflows out when asked, and the linked node still exports', async () => {
    const ws = await world.newWorkspace()
    const res = await runCliAsync(['adopt', install.comfyui, 'linked', '--workflows', 'skip', '--dev-nodes', 'link', '--yes', '--json'], { workspace: ws.root })
    expect(res.code, res.stderr).toBe(0)
    const out = res.json()
    expect(out.copied).toEqual({ workflows: [], dev_nodes: [], files: 0, bytes: 0 })
    expect(out.referenced.dev_nodes).toEqual(['my-dev-node'])
    expect(out.not_adopted).toEqual(expect.arrayContaining([{ item: '1 saved workflow(s)', reason: expect.stringContaining('left out as chosen') }]))
    const env = ws.env('linked')
    expect(lstatSync(join(env.customNodes, 'my-dev-node')).isSymbolicLink()).toBe(true)
    expect(realpathSync(join(env.customNodes, 'my-dev-node'))).toBe(join(install.comfyui, 'custom_nodes', 'my-dev-node'))
    const doc = await readManifest(env.pyproject)
    expect(doc.tool.comfydock.nodes?.['my-dev-node']).toMatchObject({ source: 'development' })
    expect(doc.tool.comfydock.workflows ?? {}).toEqual({})
    expect(existsSync(join(env.userWorkflows, 'portrait.json'))).toBe(false)
    // The bundle carries the linked node's files, as it would a copied one.
    const bundle = join(makeTempDir('adopt-linked'), 'linked.tar.gz')
    const exp = await runCliAsync(['-e', 'linked', 'export', bundle, '--json'], { workspace: ws.root })
    expect(exp.code, exp.stderr).toBe(0)
    expect(execFileSync('tar', ['tzf', bundle], { encoding: 'utf8' })).toMatch(/my-dev-node\/__init__\.py/)
  }, 300_000)

  it('asks on a terminal what to do with workflows and development nodes, and shows what is copied and what is used in place', async () => {
    const ws = await world.newWorkspace()
    // workflows: leave out (down, enter); development nodes: link (down, enter); create: no
    const out = await runOnTty(['--workspace', ws.root, 'adopt', install.comfyui, 'asked'], [
      [/saved workflow\(s\) \(portrait\.json\):/, '\u001b[B\r'],
      [/Your development nodes \(my-dev-node, /, '\u001b[B\r'],
      [/Create this environment\?/, 'n\r'],
    ])
    expect(out).toContain('Copied into the new environment: nothing')
    expect(out).toContain('development nodes, linked: my-dev-node')
    expect(out).toContain(`models: ${join(install.comfyui, 'models')}, ${install.extraModels}`)
    expect(out).toContain('not adopted: 1 saved workflow(s) (left out as chosen')
    expect(out).toContain('adopt cancelled; nothing was changed')
    expect(existsSync(ws.env('asked').root)).toBe(false)
  }, 120_000)

  it('refuses a folder that is not a ComfyUI, saying which folder to pass', async () => {
    const ws = await world.newWorkspace()
    const res = await runCliAsync(['adopt', world.root, '--yes'], { workspace: ws.root })
    expect(res.code).toBe(1)
    expect(res.stderr).toContain('is not a ComfyUI folder')
    expect(res.stderr).toContain('comfydock adopt ~/ComfyUI')
  })
})
