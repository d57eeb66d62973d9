/**
 * `serve` next to a ComfyUI the user set up by hand (no comfydock environment): the panel offers
 * "Adopt this ComfyUI", runs the core adopt with its progress, then works on the new environment.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { readManifest } from '../../sidecar/manifest'
import { startSidecar, type RunningSidecar } from '../../sidecar/server'
import type { Workspace } from '../../sidecar/workspace'
import { makeExistingInstall, makePeerWorld, REGISTRY_PACK, useWorldEnv, type ExistingInstall, type PeerWorld } from '../support/peer-world'
import { makeTempDir } from '../support/temp-dir'
import { CHROMIUM, launchChromium } from './browser'
import { startHarness, type Harness } from './harness-server'

describe.skipIf(!existsSync(CHROMIUM))('the panel next to an unmanaged ComfyUI', () => {
  let world: PeerWorld
  let install: ExistingInstall
  let restoreEnv: () => void
  let ws: Workspace
  let sidecar: RunningSidecar
  let harness: Harness
  let browser: Browser
  let page: Page
  const errors: string[] = []
  const progress: string[] = []

  beforeAll(async () => {
    const root = makeTempDir('adopt-panel')
    world = await makePeerWorld(join(root, 'world'))
    restoreEnv = useWorldEnv(world)
    install = await makeExistingInstall(world, join(root, 'user'))
    ws = await world.newWorkspace()
    const bridge: { url: string | null, token: string | null } = { url: null, token: null }
    harness = await startHarness({ bridge, userWorkflows: join(root, 'page-workflows'), startName: 'portrait' })
    sidecar = await startSidecar({ workspaceRoot: ws.root, origins: [harness.url], unmanagedComfyui: install.comfyui })
    Object.assign(bridge, { url: sidecar.url, token: sidecar.token })
    browser = await launchChromium()
    page = await browser.newPage()
    page.on('pageerror', e => errors.push(String(e)))
    page.on('websocket', s => s.on('framereceived', f => { if (String(f.payload).includes('"progress"')) progress.push(String(f.payload)) }))
    await page.goto(harness.url)
    await page.waitForFunction(() => (window as any).__harnessReady || (window as any).__harnessError, null, { timeout: 20_000 })
  }, 240_000)

  afterAll(async () => {
    await browser?.close()
    await sidecar?.close()
    await harness?.close()
    restoreEnv?.()
    await world?.close()
  })

  it('offers "Adopt this ComfyUI" instead of acting on the workspace\'s active environment', async () => {
    await page.click('.comfydock-tab-button')
    const banner = page.locator('[data-testid="unmanaged"]')
    await banner.waitFor({ timeout: 15_000 })
    expect(await banner.textContent()).toContain(install.comfyui)
    expect(await page.textContent('[data-testid="env-name"]')).toBe('no environment')
    expect(await banner.locator('[data-testid="adopt"]').isEnabled()).toBe(true)
  })

  it('adopts it with progress, then works on the new environment', async () => {
    // the job row may come and go quickly: watched from the page itself
    await page.evaluate(() => {
      new MutationObserver(() => {
        const job = document.querySelector('[data-testid="job"]')
        if (job?.textContent?.includes('Adopt this ComfyUI')) (window as any).__sawAdoptJob = true
      }).observe(document.body, { subtree: true, childList: true, characterData: true })
    })
    await page.click('[data-testid="adopt"]')
    await page.waitForFunction(() => document.querySelector('#toasts')?.textContent?.includes('Adopted as environment'), null, { timeout: 180_000 })
    // the panel asks the sidecar again after the toast: it now serves the new environment
    await page.waitForFunction(() => Boolean((window as any).__comfydock.controller.state.hello?.activeEnv), null, { timeout: 15_000 })
    const name = await page.evaluate(() => (window as any).__comfydock.controller.state.hello.activeEnv as string)
    await page.waitForFunction((n) => document.querySelector('[data-testid="env-name"]')?.textContent === n, name, { timeout: 15_000 })
    expect(await page.locator('[data-testid="unmanaged"]').count()).toBe(0)
    const doc = await readManifest(ws.env(name).pyproject)
    expect(doc.tool.comfydock.nodes?.[REGISTRY_PACK]).toMatchObject({ source: 'registry' })
    // the adopt ran as a job with its Cancel, and its own steps reached the page as progress of its request
    expect(await page.evaluate(() => (window as any).__sawAdoptJob)).toBe(true)
    expect(progress.length).toBeGreaterThan(0)
    // and the panel's calls now act on it: its history has the adopt commit
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="log-subject"]')].some(e => e.textContent?.startsWith('Adopt ComfyUI from')), null, { timeout: 15_000 })
  }, 200_000)

  it('raised no page errors', () => {
    expect(errors).toEqual([])
  })
})
