/**
 * Installing a pack from the panel: its download shows live bytes and percent, and Cancel stops it with the
 * environment exactly as it was (no manifest entry, no pack folder).
 */
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync } from 'node:fs'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { readManifest } from '../../sidecar/manifest'
import { startSidecar, type RunningSidecar } from '../../sidecar/server'
import { startRegistryServer, zipFiles, type RegistryServer } from '../support/registry-server'
import { makeEnvWorkspace } from '../server/fixture'
import { CHROMIUM, graphNode, launchChromium, openGraphInTab } from './browser'
import { startHarness, type Harness } from './harness-server'

/** The registry as a slow link serves it: pack archives trickle, 64 KiB every 20 ms. */
async function startSlowRelay (target: string): Promise<{ url: string, close: () => Promise<void> }> {
  const to = new URL(target)
  const server: Server = createServer((req, res) => {
    const up = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: { ...req.headers, host: to.host } }, answer => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      if (!req.url?.includes('/files/')) { answer.pipe(res); return }
      const chunks: Buffer[] = []
      answer.on('data', (c: Buffer) => chunks.push(c))
      answer.on('end', () => {
        const body = Buffer.concat(chunks)
        let at = 0
        const timer = setInterval(() => {
          res.write(body.subarray(at, at + 64 * 1024))
          at += 64 * 1024
          if (at >= body.length) { clearInterval(timer); res.end() }
        }, 20)
        res.on('close', () => clearInterval(timer))
      })
    })
    up.on('error', () => res.socket?.destroy())
    req.pipe(up)
  })
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise(r => { server.closeAllConnections(); server.close(() => r()) }),
  }
}

describe.skipIf(!existsSync(CHROMIUM))('installing a pack from the panel', () => {
  let registry: RegistryServer
  let relay: Awaited<ReturnType<typeof startSlowRelay>>
  let env: Awaited<ReturnType<typeof makeEnvWorkspace>>
  let sidecar: RunningSidecar
  let harness: Harness
  let browser: Browser
  let page: Page
  const errors: string[] = []

  beforeAll(async () => {
    // 24 MiB that do not compress: a download of several seconds through the relay
    const zip = await zipFiles({ '__init__.py': 'NODE_CLASS_MAPPINGS = {}\n', 'weights.bin': randomBytes(24 * 1024 * 1024).toString('base64') })
    registry = await startRegistryServer([{ id: 'comfyui-slow-pack', repository: 'https://github.com/example/ComfyUI-Slow-Pack', versions: [{ version: '1.0.0', classes: ['SlowNode'], zip }] }])
    relay = await startSlowRelay(registry.url)
    env = await makeEnvWorkspace('demo')
    await env.ws.setConfig('registry_url', relay.url)
    const bridge: { url: string | null, token: string | null } = { url: null, token: null }
    harness = await startHarness({ bridge, userWorkflows: join(env.comfyui, 'user', 'default', 'workflows'), startName: 'portrait' })
    sidecar = await startSidecar({ workspaceRoot: env.root, origins: [harness.url] })
    Object.assign(bridge, { url: sidecar.url, token: sidecar.token })
    browser = await launchChromium()
    page = await browser.newPage()
    page.on('pageerror', e => errors.push(String(e)))
    await page.goto(harness.url)
    await page.waitForFunction(() => (window as any).__harnessReady || (window as any).__harnessError, null, { timeout: 20_000 })
    await page.click('.comfydock-tab-button')
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await sidecar?.close()
    await harness?.close()
    await relay?.close()
    await registry?.stop()
  })

  it('shows the download\'s progress and Cancel leaves the environment as it was', async () => {
    const before = await readManifest(env.ws.env('demo').pyproject)
    await openGraphInTab(page, 'needs-pack', [graphNode('SlowNode', { cnr_id: 'comfyui-slow-pack', ver: '1.0.0' }, [])])
    await page.click('button[title="refresh"]')
    const row = page.locator('[data-testid="tab-needs-pack"]')
    await row.locator('[data-testid="install"]').click({ timeout: 15_000 })
    const job = page.locator('[data-testid="job"]', { hasText: 'Install comfyui-slow-pack' })
    await page.waitForFunction(() => /MiB of \d+ MiB · \d+%/.test(document.querySelector('[data-testid="job-progress"]')?.textContent ?? ''), null, { timeout: 20_000 })
    await job.locator('[data-testid="cancel"]').click()
    await page.waitForFunction(() => document.querySelector('#toasts')?.textContent?.includes('Install comfyui-slow-pack cancelled'), null, { timeout: 15_000 })
    const after = await readManifest(env.ws.env('demo').pyproject)
    expect(after.tool.comfydock.nodes ?? {}).toEqual(before.tool.comfydock.nodes ?? {})
    expect(readdirSync(env.ws.env('demo').customNodes)).toEqual([])
    expect(await row.locator('[data-testid="install"]').isVisible()).toBe(true)
  })

  it('raised no page errors', () => {
    expect(errors).toEqual([])
  })
})
