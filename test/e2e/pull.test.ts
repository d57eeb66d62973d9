/**
 * Pull in the panel: two workspaces (alice and bob) share an environment through a real git server
 * over HTTP (git's own http-backend on loopback). Bob's panel shows what a pull changes, applies it,
 * reloads his open tabs of the pulled workflows but never one with unsaved edits, and resolves a
 * conflict by a choice, with his uncommitted work committed first when he says so.
 */
import { execFile, execFileSync } from 'node:child_process'
import { promisify } from 'node:util'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { commitEnvironment } from '../../sidecar/env'
import { addRemote, pushEnvironment } from '../../sidecar/remote'
import { startSidecar, type RunningSidecar } from '../../sidecar/server'
import { trackWorkflows } from '../../sidecar/workflows'
import type { EnvPaths, Workspace } from '../../sidecar/workspace'
import { makeEnvWorkspace } from '../server/fixture'
import { startGitHttpBackend, type GitHttpServer } from '../support/git-http-server'
import { makeTempDir } from '../support/temp-dir'
import { CHROMIUM, graphNode, launchChromium } from './browser'
import { startHarness, type Harness } from './harness-server'

/** A saved workflow of one EmptyLatentImage node whose width is `width`. */
function workflow (width: number): Record<string, unknown> {
  return { last_node_id: 1, last_link_id: 0, nodes: [graphNode('EmptyLatentImage', {}, [width, 512, 1])], links: [], groups: [], config: {}, extra: {}, version: 0.4 }
}

const git = (dir: string, args: string[]): string => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim()

describe.skipIf(!existsSync(CHROMIUM))('pull with a preview in the panel', () => {
  let server: GitHttpServer
  let alice: { ws: Workspace, env: EnvPaths }
  let bob: { ws: Workspace, env: EnvPaths }
  let sidecar: RunningSidecar
  let harness: Harness
  let browser: Browser
  let page: Page
  const errors: string[] = []

  const save = (who: { env: EnvPaths }, name: string, width: number): void => writeFileSync(join(who.env.userWorkflows, `${name}.json`), JSON.stringify(workflow(width), null, 2))
  const width = (who: { env: EnvPaths }, name: string): number => JSON.parse(readFileSync(join(who.env.userWorkflows, `${name}.json`), 'utf8')).nodes[0].widgets_values[0]
  /** What bob's tab of `name` holds (the frontend's own state of that tab), and whether it has unsaved edits. */
  const tab = (name: string): Promise<{ widths: number[], modified: boolean }> => page.evaluate((n) => {
    const w = (window as any).__harness.store.getWorkflowByPath(`workflows/${n}.json`)
    return { widths: w.changeTracker.activeState.nodes.map((x: any) => x.widgets_values?.[0]), modified: w.isModified }
  }, name)
  const toast = (text: string): Promise<unknown> => page.waitForFunction((t) => document.querySelector('#toasts')?.textContent?.includes(t), text, { timeout: 60_000 })

  beforeAll(async () => {
    server = await startGitHttpBackend(makeTempDir('pull-git'))
    const url = server.createRepo('demo')
    // alice: an environment with two workflows, pushed
    const a = await makeEnvWorkspace('demo')
    alice = { ws: a.ws, env: a.ws.env('demo') }
    save(alice, 'portrait', 512)
    save(alice, 'sketch', 512)
    await trackWorkflows(alice.env, ['portrait', 'sketch'])
    await commitEnvironment(alice.ws, alice.env, { message: 'two workflows', allowIssues: true })
    await addRemote(alice.env, 'origin', url)
    await pushEnvironment(alice.ws, alice.env)
    // bob: a second workspace whose environment is a clone of alice's .cec, with her workflows saved in his ComfyUI
    const b = await makeEnvWorkspace('demo')
    bob = { ws: b.ws, env: b.ws.env('demo') }
    rmSync(bob.env.cec, { recursive: true, force: true })
    // not execFileSync: the git server answers from this same process
    await promisify(execFile)('git', ['clone', '-q', url, bob.env.cec])
    writeFileSync(bob.env.completeMarker, '')
    save(bob, 'portrait', 512)
    save(bob, 'sketch', 512)

    const bridge: { url: string | null, token: string | null } = { url: null, token: null }
    harness = await startHarness({ bridge, userWorkflows: bob.env.userWorkflows, startName: 'scratch' })
    sidecar = await startSidecar({ workspaceRoot: bob.ws.root, origins: [harness.url] })
    Object.assign(bridge, { url: sidecar.url, token: sidecar.token })
    browser = await launchChromium()
    page = await browser.newPage()
    page.on('pageerror', e => errors.push(String(e)))
    await page.goto(harness.url)
    await page.waitForFunction(() => (window as any).__harnessReady || (window as any).__harnessError, null, { timeout: 20_000 })
    // bob has both workflows open, as ComfyUI opens saved files
    await page.evaluate(async (graphs) => {
      const h = (window as any).__harness
      for (const [name, graph] of Object.entries(graphs)) await h.app.loadGraphData(graph, true, true, name)
      await h.store.syncWorkflows()
    }, { portrait: workflow(512), sketch: workflow(512) })
    await page.click('.comfydock-tab-button')
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await sidecar?.close()
    await harness?.close()
    await server?.close()
  })

  it('offers Pull when the environment has a remote, and the preview lists what changes without changing anything', async () => {
    save(alice, 'portrait', 768)
    save(alice, 'sketch', 640)
    await commitEnvironment(alice.ws, alice.env, { message: 'wider', allowIssues: true })
    await pushEnvironment(alice.ws, alice.env)
    const before = git(bob.env.cec, ['rev-parse', 'HEAD'])
    await page.click('[data-testid="pull"]', { timeout: 20_000 })
    await page.waitForSelector('[data-testid="pull-preview"]', { timeout: 30_000 })
    expect(await page.textContent('[data-testid="pull-section"]')).toContain('~ workflows: portrait, sketch')
    expect(await page.isVisible('[data-testid="pull-apply"]')).toBe(true)
    expect(git(bob.env.cec, ['rev-parse', 'HEAD'])).toBe(before)
    expect(width(bob, 'portrait')).toBe(512)
  })

  it('Apply pulls, reloads the clean tab, and leaves the tab with unsaved edits alone (and says so)', async () => {
    // bob edits the sketch tab without saving
    await page.evaluate(() => {
      const h = (window as any).__harness
      h.switchTo('workflows/sketch.json')
      h.addNode('EmptyLatentImage', [300, 300])
    })
    expect((await tab('sketch')).modified).toBe(true)
    await page.click('[data-testid="pull-apply"]')
    await toast('Pulled from origin')
    expect(git(bob.env.cec, ['rev-parse', 'HEAD'])).toBe(git(alice.env.cec, ['rev-parse', 'HEAD']))
    expect(width(bob, 'portrait')).toBe(768)
    expect(width(bob, 'sketch')).toBe(640)
    expect(await tab('portrait')).toEqual({ widths: [768], modified: false })
    // the unsaved edit is still there, untouched
    expect(await tab('sketch')).toEqual({ widths: [512, 512], modified: true })
    expect(await page.textContent('#toasts')).toContain('Not reloaded, it has unsaved edits: sketch')
    expect(await page.isVisible('[data-testid="pull-preview"]')).toBe(false)
  })

  it('a workflow changed on both sides is a conflict shown with both sides; uncommitted work is committed first when asked', async () => {
    save(alice, 'portrait', 1024)
    await commitEnvironment(alice.ws, alice.env, { message: 'alice: 1024', allowIssues: true })
    await pushEnvironment(alice.ws, alice.env)
    save(bob, 'portrait', 896)
    await commitEnvironment(bob.ws, bob.env, { message: 'bob: 896', allowIssues: true })
    // uncommitted work in bob's ComfyUI: the pull must not lose it
    save(bob, 'sketch', 320)
    await page.click('[data-testid="pull"]')
    await page.waitForSelector('[data-testid="pull-conflict"]', { timeout: 30_000 })
    const conflict = await page.textContent('[data-testid="pull-conflict"]')
    expect(conflict).toContain('portrait')
    expect(await page.textContent('[data-testid="pull-uncommitted"]')).toContain('sketch')
    // no Apply until the conflict has an answer
    expect(await page.isDisabled('[data-testid="pull-commit-first"]')).toBe(true)
    const id = await page.getAttribute('[data-testid="pull-conflict"] select', 'data-testid')
    await page.selectOption(`[data-testid="${id}"]`, 'theirs')
    await page.waitForFunction(() => !(document.querySelector('[data-testid="pull-commit-first"]') as HTMLButtonElement | null)?.disabled)
    await page.click('[data-testid="pull-commit-first"]')
    await toast('was committed first')
    expect(width(bob, 'portrait')).toBe(1024)
    // bob's uncommitted sketch is in his history, not lost
    expect(width(bob, 'sketch')).toBe(320)
    expect(git(bob.env.cec, ['status', '--porcelain'])).toBe('')
    expect(git(bob.env.cec, ['merge-base', '--is-ancestor', git(alice.env.cec, ['rev-parse', 'HEAD']), 'HEAD'])).toBe('')
    expect(JSON.parse(git(bob.env.cec, ['show', 'HEAD:workflows/sketch.json'])).nodes[0].widgets_values[0]).toBe(320)
    expect((await tab('portrait')).widths).toEqual([1024])
    expect(errors).toEqual([])
  })
})
