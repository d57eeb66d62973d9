import { existsSync, readFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { acquireEnvLock } from '../../sidecar/env'
import { openGit } from '../../sidecar/git'
import { readManifest } from '../../sidecar/manifest'
import { startSidecar, type RunningSidecar } from '../../sidecar/server'
import { connect, type TestClient } from './client'
import { makeEnvWorkspace } from './fixture'

/** A UI-format graph of core nodes without model files (nothing to resolve). */
function graph (width: number, seedNote = 'v'): Record<string, unknown> {
  return {
    last_node_id: 2,
    last_link_id: 0,
    nodes: [
      { id: 1, type: 'EmptyLatentImage', pos: [0, 0], size: [300, 100], flags: {}, order: 0, mode: 0, inputs: [], outputs: [], properties: {}, widgets_values: [width, 512, 1] },
      { id: 2, type: 'SaveImage', pos: [400, 0], size: [300, 100], flags: {}, order: 1, mode: 0, inputs: [], outputs: [], properties: {}, widgets_values: [seedNote] },
    ],
    links: [],
    groups: [],
    config: {},
    extra: {},
    version: 0.4,
  }
}

describe('commit and restore of browser workflows', () => {
  let sidecar: RunningSidecar
  let a: TestClient
  let b: TestClient
  let env: Awaited<ReturnType<typeof makeEnvWorkspace>>
  let userDir: string

  /** What the panel does before committing: save the tab through ComfyUI's userdata API. */
  const saveLikeComfyUI = async (name: string, json: unknown): Promise<void> => {
    await mkdir(userDir, { recursive: true })
    await writeFile(join(userDir, `${name}.json`), JSON.stringify(json))
  }

  beforeAll(async () => {
    env = await makeEnvWorkspace('demo')
    userDir = join(env.comfyui, 'user', 'default', 'workflows')
    sidecar = await startSidecar({ workspaceRoot: env.root })
    a = await connect(sidecar.wsUrl, sidecar.token)
    b = await connect(sidecar.wsUrl, sidecar.token)
  })
  afterAll(async () => {
    await a?.close()
    await b?.close()
    await sidecar?.close()
  })

  it('workflows.commit records the browser copy in git, tracks it, and tells other clients', async () => {
    const v1 = graph(512)
    await saveLikeComfyUI('portrait', v1)
    const res = await a.call('workflows.commit', { message: 'portrait v1', workflows: [{ name: 'portrait', json: v1 }] })
    expect(res.ok).toBe(true)
    if (!res.ok) return
    expect(res.result).toMatchObject({ workflows: ['portrait'] })
    const [head] = await openGit(env.cec).log({ limit: 1 })
    expect(head.subject).toBe('portrait v1')
    expect((res.result as any).commit).toBe(head.commit)
    expect(JSON.parse(readFileSync(join(env.cec, 'workflows', 'portrait.json'), 'utf8'))).toEqual(v1)
    expect(Object.keys((await readManifest(join(env.cec, 'pyproject.toml'))).tool.comfydock.workflows ?? {})).toEqual(['portrait'])
    await new Promise(r => setTimeout(r, 50))
    expect(b.events).toContainEqual(expect.objectContaining({ event: 'changed', env: 'demo', method: 'workflows.commit' }))
  })

  it('commits the in-browser state even when ComfyUI holds an older saved copy', async () => {
    const unsaved = graph(640)
    const res = await a.call('workflows.commit', { message: 'portrait unsaved edit', workflows: [{ name: 'portrait', json: unsaved }] })
    expect(res.ok).toBe(true)
    expect(JSON.parse(readFileSync(join(env.cec, 'workflows', 'portrait.json'), 'utf8'))).toEqual(unsaved)
  })

  it('committing an unchanged workflow answers with no commit instead of an error', async () => {
    const res = await a.call('workflows.commit', { message: 'again', workflows: [{ name: 'portrait', json: graph(640) }] })
    expect(res.ok && res.result).toMatchObject({ commit: null })
  })

  it('refuses a workflow name that is a path', async () => {
    const res = await a.call('workflows.commit', { message: 'x', workflows: [{ name: '../../escape', json: graph(1) }] })
    expect(res.ok).toBe(false)
    if (!res.ok) expect(res.error.code).toBe('INVALID_ARGUMENT')
  })

  it('a refused commit leaves the manifest as it was (no half-tracked workflow)', async () => {
    await saveLikeComfyUI('draft', graph(300))
    const before = readFileSync(join(env.cec, 'pyproject.toml'), 'utf8')
    const res = await a.call('workflows.commit', { message: '   ', workflows: [{ name: 'draft', json: graph(300) }] })
    expect(res.ok).toBe(false)
    expect(readFileSync(join(env.cec, 'pyproject.toml'), 'utf8')).toBe(before)
  })

  it('workflows.list shows the tracked workflow', async () => {
    await saveLikeComfyUI('portrait', graph(640))
    const res = await a.call('workflows.list', {})
    const list = res.ok ? res.result as Array<{ name: string }> : []
    expect(list.filter(w => w.name === 'draft' || w.name === 'portrait')).toEqual([{ name: 'draft', tracked: false, state: 'untracked' }, { name: 'portrait', tracked: true, state: 'synced' }])
  })

  it('workflows.restore returns an older version for the tab and writes ComfyUI\'s copy', async () => {
    const log = await openGit(env.cec).log()
    const v1 = log.find(e => e.subject === 'portrait v1')!
    const res = await a.call('workflows.restore', { name: 'portrait', ref: v1.commit })
    expect(res.ok).toBe(true)
    if (!res.ok) return
    expect((res.result as any).json).toEqual(graph(512))
    expect(JSON.parse(readFileSync(join(userDir, 'portrait.json'), 'utf8'))).toEqual(graph(512))
  })

  it('restore refuses to overwrite uncommitted changes in ComfyUI\'s copy unless told to', async () => {
    await saveLikeComfyUI('portrait', graph(999, 'unsaved work'))
    const refused = await a.call('workflows.restore', { name: 'portrait' })
    expect(refused.ok).toBe(false)
    if (!refused.ok) expect(refused.error.code).toBe('UNCOMMITTED_CHANGES')
    expect(JSON.parse(readFileSync(join(userDir, 'portrait.json'), 'utf8'))).toEqual(graph(999, 'unsaved work'))
    const forced = await a.call('workflows.restore', { name: 'portrait', overwrite: true })
    expect(forced.ok).toBe(true)
  })

  it('sends only frames that match the protocol schema the panel validates with', () => {
    for (const c of [a, b]) expect(c.invalid).toEqual([])
  })

  it('serializes commits from two clients on one environment: both land, one after the other', async () => {
    await saveLikeComfyUI('left', graph(100))
    await saveLikeComfyUI('right', graph(200))
    const [l, r] = await Promise.all([
      a.call('workflows.commit', { message: 'left', workflows: [{ name: 'left', json: graph(100) }] }),
      b.call('workflows.commit', { message: 'right', workflows: [{ name: 'right', json: graph(200) }] }),
    ])
    expect(l.ok && r.ok).toBe(true)
    const subjects = (await openGit(env.cec).log({ limit: 2 })).map(e => e.subject).sort()
    expect(subjects).toEqual(['left', 'right'])
    expect(await openGit(env.cec).isClean()).toBe(true)
  })

  it('commits a tab ComfyUI never saved in the environment (a user\'s own ComfyUI keeps its files elsewhere)', async () => {
    const tab = graph(1, 'own-comfyui')
    const res = await a.call('workflows.commit', { message: 'from my own ComfyUI', workflows: [{ name: 'never-saved', json: tab }] })
    expect(res.ok).toBe(true)
    expect(existsSync(join(userDir, 'never-saved.json'))).toBe(false)
    expect(JSON.parse(readFileSync(join(env.cec, 'workflows', 'never-saved.json'), 'utf8'))).toEqual(tab)
    expect((await readManifest(join(env.cec, 'pyproject.toml'))).tool.comfydock.workflows?.['never-saved']).toMatchObject({ path: 'workflows/never-saved.json' })
    expect(await openGit(env.cec).show('HEAD', 'workflows/never-saved.json')).toBe(JSON.stringify(tab, null, 2) + '\n')
  })

  it('a later commit of another tab keeps the earlier one whose file is not in the environment\'s folder', async () => {
    const other = graph(2, 'second tab')
    const res = await a.call('workflows.commit', { message: 'second tab', workflows: [{ name: 'second-tab', json: other }] })
    expect(res.ok).toBe(true)
    const tracked = (await readManifest(join(env.cec, 'pyproject.toml'))).tool.comfydock.workflows ?? {}
    expect(Object.keys(tracked)).toEqual(expect.arrayContaining(['never-saved', 'second-tab']))
    expect(await openGit(env.cec).show('HEAD', 'workflows/never-saved.json')).toBe(JSON.stringify(graph(1, 'own-comfyui'), null, 2) + '\n')
  })

  it('records a custom node\'s model input found through the browser\'s object_info and model lists', async () => {
    const tab = {
      ...graph(3),
      nodes: [{ id: 1, type: 'FancyLoraPicker', pos: [0, 0], size: [300, 100], flags: {}, order: 0, mode: 0, inputs: [], outputs: [], properties: {}, widgets_values: ['detail-tweaker.lorapatch', 0.8] }],
    }
    const objectInfo = {
      FancyLoraPicker: {
        input: { required: { lora: [['detail-tweaker.lorapatch', 'other-style.lorapatch']], strength: ['FLOAT', {}] } },
        input_order: { required: ['lora', 'strength'] },
        python_module: 'custom_nodes.fancy-pack',
      },
    }
    await a.call('session.context', { objectInfo: { hash: 'fancy', value: objectInfo }, modelLists: { hash: 'fancy', value: { loras: ['detail-tweaker.lorapatch', 'other-style.lorapatch'], checkpoints: [] } } })
    const res = await a.call('workflows.commit', { message: 'fancy', workflows: [{ name: 'fancy', json: tab }], allowIssues: true })
    expect(res.ok).toBe(true)
    const entry = (await readManifest(join(env.cec, 'pyproject.toml'))).tool.comfydock.workflows?.fancy
    expect(entry?.models?.map(m => [m.filename, m.category])).toEqual([['detail-tweaker.lorapatch', 'loras']])
  })

  it('a commit refused for unresolved issues tracks nothing and leaves the manifest as it was', async () => {
    const before = readFileSync(join(env.cec, 'pyproject.toml'), 'utf8')
    const tab = { ...graph(4), nodes: [{ id: 1, type: 'CheckpointLoaderSimple', pos: [0, 0], size: [300, 100], flags: {}, order: 0, mode: 0, inputs: [], outputs: [], properties: {}, widgets_values: ['missing/model.safetensors'] }] }
    const res = await a.call('workflows.commit', { message: 'blocked', workflows: [{ name: 'blocked', json: tab }] })
    expect(res.ok).toBe(false)
    if (!res.ok) expect(res.error.code).toBe('WORKFLOW_UNRESOLVED')
    expect(readFileSync(join(env.cec, 'pyproject.toml'), 'utf8')).toBe(before)
  })

  it('a panel commit while another comfydock process commits the environment waits for it, then lands', async () => {
    const other = await acquireEnvLock(env.ws.env('demo'), 'comfydock commit')
    let answered = false
    const pending = a.call('workflows.commit', { message: 'after the CLI', workflows: [{ name: 'queued', json: graph(5) }] }).then(r => { answered = true; return r })
    await new Promise(r => setTimeout(r, 300))
    expect(answered).toBe(false)
    await other.release()
    const res = await pending
    expect(res.ok, JSON.stringify(res)).toBe(true)
    expect((await openGit(env.cec).log({ limit: 1 }))[0].subject).toBe('after the CLI')
  })
})
