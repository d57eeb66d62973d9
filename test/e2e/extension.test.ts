import { existsSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { startSidecar, type RunningSidecar } from '../../sidecar/server'
import { makeEnvWorkspace } from '../server/fixture'
import { CHROMIUM, launchChromium } from './browser'
import { startHarness, type Harness } from './harness-server'

describe.skipIf(!existsSync(CHROMIUM))('the built extension in Chromium (ComfyUI surface over real litegraph)', () => {
  let sidecar: RunningSidecar
  let harness: Harness
  let browser: Browser
  let page: Page
  let env: Awaited<ReturnType<typeof makeEnvWorkspace>>
  const bridge: { url: string | null, token: string | null } = { url: null, token: null }
  const errors: string[] = []

  beforeAll(async () => {
    env = await makeEnvWorkspace('demo')
    harness = await startHarness({ bridge, userWorkflows: `${env.comfyui}/user/default/workflows`, startName: 'portrait' })
    sidecar = await startSidecar({ workspaceRoot: env.root, origins: [harness.url] })
    bridge.url = sidecar.url
    bridge.token = sidecar.token
    browser = await launchChromium()
    page = await browser.newPage()
    page.on('pageerror', e => errors.push(String(e)))
    await page.goto(harness.url)
    await page.waitForFunction(() => (window as any).__harnessReady || (window as any).__harnessError, null, { timeout: 20_000 })
    expect(await page.evaluate(() => (window as any).__harnessError ?? null)).toBeNull()
  })

  afterAll(async () => {
    await browser?.close()
    await sidecar?.close()
    await harness?.close()
  })

  it('adds the Environment sidebar tab and shows the environment once connected', async () => {
    await page.click('.comfydock-tab-button')
    await page.waitForSelector('[data-testid="comfydock-panel"]')
    await page.waitForFunction(() => document.querySelector('[data-testid="connection"]')?.textContent?.includes('connected'))
    await page.waitForFunction(() => document.querySelector('[data-testid="env-name"]')?.textContent === 'demo')
    expect(await page.textContent('[data-testid="comfyui-version"]')).toContain('v0.3.7')
    expect(await page.isVisible('[data-testid="tab-portrait"]')).toBe(true)
  })

  it('puts "Export environment" in the Workflow menu as a command', async () => {
    const item = page.locator('.menu-item', { hasText: 'Export environment' })
    expect(await item.count()).toBe(1)
    expect(await item.getAttribute('data-path')).toBe('Workflow')
    const ids = await page.evaluate(() => (window as any).__harness.app.extensionManager.command.commands.map((c: any) => c.id))
    expect(ids).toContain('Comfydock.ExportEnvironment')
  })

  it('shows every open tab, with unsaved edits marked', async () => {
    await page.evaluate(async () => {
      const h = (window as any).__harness
      await h.newTab()
      h.addNode('CheckpointLoaderSimple')
    })
    await page.waitForSelector('[data-testid="tab-Unsaved Workflow (2)"]')
    expect(await page.textContent('[data-testid="tab-Unsaved Workflow (2)"]')).toContain('unsaved')
  })

  it('badges the sidebar button with the number of uncommitted workflows', async () => {
    // both open tabs are new to the environment: neither is committed yet
    await page.waitForFunction(() => document.querySelector('.comfydock-tab-button .badge')?.textContent === '2', null, { timeout: 5000 })
  })

  it('raised no page errors', () => {
    expect(errors).toEqual([])
  })
})
