import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { commitEnvironment } from '../../sidecar/env'
import { openGit } from '../../sidecar/git'
import { trackWorkflows } from '../../sidecar/workflows'
import { Workspace } from '../../sidecar/workspace'
import { startSidecar, type RunningSidecar } from '../../sidecar/server'
import { makeEnvWorkspace } from '../server/fixture'
import { CHROMIUM, graphNode, launchChromium, openGraphInTab } from './browser'
import { startHarness, type Harness } from './harness-server'
import { startFileServer, type FileServer } from '../support/file-server'

describe.skipIf(!existsSync(CHROMIUM))('the built extension in Chromium (ComfyUI surface over real litegraph)', () => {
  let sidecar: RunningSidecar
  let harness: Harness
  let files: FileServer
  let browser: Browser
  let page: Page
  let env: Awaited<ReturnType<typeof makeEnvWorkspace>>
  /** As the bridge reads ComfyUI's log: a pack that is installed but failed to import. */
  const loadFailures = [{ folder: 'broken-pack', reason: "Traceback (most recent call last):\nModuleNotFoundError: No module named 'cv2'" }]
  const bridge: { url: string | null, token: string | null, loadFailures?: typeof loadFailures } = { url: null, token: null, loadFailures }
  const errors: string[] = []
  /** Every frame the page sent to the sidecar. */
  const sent: string[] = []

  beforeAll(async () => {
    env = await makeEnvWorkspace('demo')
    await mkdir(join(env.ws.env('demo').customNodes, 'broken-pack'), { recursive: true })
    files = await startFileServer()
    harness = await startHarness({ bridge, userWorkflows: `${env.comfyui}/user/default/workflows`, startName: 'portrait', modelsDir: env.ws.modelsDir })
    sidecar = await startSidecar({ workspaceRoot: env.root, origins: [harness.url] })
    bridge.url = sidecar.url
    bridge.token = sidecar.token
    browser = await launchChromium()
    page = await browser.newPage()
    page.on('pageerror', e => errors.push(String(e)))
    page.on('websocket', ws => ws.on('framesent', f => sent.push(String(f.payload))))
    await page.goto(harness.url)
    await page.waitForFunction(() => (window as any).__harnessReady || (window as any).__harnessError, null, { timeout: 20_000 })
    expect(await page.evaluate(() => (window as any).__harnessError ?? null)).toBeNull()
  })

  afterAll(async () => {
    await browser?.close()
    await sidecar?.close()
    await harness?.close()
    await files?.close()
  })

  it('adds the Environment sidebar tab and shows the environment once connected', async () => {
    await page.click('.comfydock-tab-button')
    await page.waitForSelector('[data-testid="comfydock-panel"]')
    await page.waitForFunction(() => document.querySelector('[data-testid="connection"]')?.textContent?.includes('connected'))
    await page.waitForFunction(() => document.querySelector('[data-testid="env-name"]')?.textContent === 'demo')
    await page.waitForFunction(() => document.querySelector('[data-testid="comfyui-version"]')?.textContent?.includes('ComfyUI v0.3.7'))
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

  it('does not count untracked tabs toward the badge', async () => {
    // both open tabs are new to the environment: not a change to it until one is committed
    await page.waitForFunction(() => document.querySelectorAll('[data-testid^="tab-"] .cfd-tag').length >= 2, null, { timeout: 5000 })
    expect(await page.evaluate(() => (window as any).__comfydock.controller.badge())).toBeNull()
  })

  it('commits the in-browser state of an unsaved tab to the environment\'s git and saves it to ComfyUI', async () => {
    const name = 'Unsaved Workflow (2)'
    // should the commit ask (unresolved issues, unsaved edits), the user says yes
    page.on('dialog', d => { void d.accept() })
    await page.check(`[data-testid="select-${name}"]`)
    await page.fill('[data-testid="commit-message"]', 'first try from the browser')
    await page.click('[data-testid="commit"]')
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="log-entry"]')].some(e => e.textContent?.includes('first try from the browser')), null, { timeout: 20_000 })
    const [head] = await openGit(env.cec).log({ limit: 1 })
    expect(head.subject).toBe('first try from the browser')
    const committed = JSON.parse(readFileSync(join(env.cec, 'workflows', `${name}.json`), 'utf8'))
    expect(committed.nodes.map((n: any) => n.type)).toEqual(['CheckpointLoaderSimple'])
    const saved = JSON.parse(readFileSync(join(env.comfyui, 'user', 'default', 'workflows', `${name}.json`), 'utf8'))
    expect(saved).toEqual(committed)
    await page.waitForFunction((n) => !document.querySelector(`[data-testid="tab-${n}"]`)?.textContent?.includes('unsaved'), name)
    await page.waitForFunction(() => (document.querySelector('[data-testid="commit-message"]') as HTMLTextAreaElement).value === '')
    // saved by the tab's own save: the frontend no longer treats it as a temporary tab
    expect(await page.evaluate((n) => (window as any).__harness.store.getWorkflowByPath(`workflows/${n}.json`).isTemporary, name)).toBe(false)
  })

  it('restores a committed version into its open tab, changing the graph', async () => {
    const name = 'Unsaved Workflow (2)'
    await page.evaluate(() => (window as any).__harness.addNode('KSampler', [400, 100]))
    expect(await page.evaluate(() => (window as any).__harness.nodeTypes())).toEqual(['CheckpointLoaderSimple', 'KSampler'])
    await page.click('button[title="refresh"]')
    await page.waitForFunction((n) => document.querySelector(`[data-testid="tab-${n}"]`)?.textContent?.includes('changed'), name)
    // the tracked tab now differs from its commit: that is the one change
    await page.waitForFunction(() => document.querySelector('.comfydock-tab-button .badge')?.textContent === '1', null, { timeout: 5000 })
    await page.selectOption('[data-testid="restore-target"]', name)
    await page.locator('[data-testid="log-entry"]', { hasText: 'first try from the browser' }).locator('button').click()
    await page.waitForFunction(() => JSON.stringify((window as any).__harness.nodeTypes()) === '["CheckpointLoaderSimple"]', null, { timeout: 10_000 })
    await page.waitForFunction((n) => document.querySelector('#toasts')?.textContent?.includes(`Restored ${n}`), name)
    const saved = JSON.parse(readFileSync(join(env.comfyui, 'user', 'default', 'workflows', `${name}.json`), 'utf8'))
    expect(saved.nodes.map((n: any) => n.type)).toEqual(['CheckpointLoaderSimple'])
  })

  it('offers Restore only on commits that hold the chosen workflow', async () => {
    const name = 'Unsaved Workflow (2)'
    await page.selectOption('[data-testid="restore-target"]', name)
    const entry = (subject: string) => page.locator('[data-testid="log-entry"]', { hasText: subject })
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="log-entry"]').length >= 2)
    expect(await entry('first try from the browser').locator('[data-testid="restore"]').count()).toBe(1)
    // the environment's first commit has no workflows
    expect(await entry('Initial environment setup').locator('[data-testid="restore"]').count()).toBe(0)
    // a tab never committed (untracked ones are left out of the list) is not offered at all
    expect(await page.$$eval('[data-testid="restore-target"] option', os => os.map(o => o.textContent))).not.toContain('portrait')
  })

  it('keeps commit subjects readable at the default sidebar width', async () => {
    // ComfyUI's sidebar opens at about a fifth of a 1280 px window
    await page.evaluate(() => { document.body.style.gridTemplateColumns = '48px 256px 1fr' })
    try {
      const subjects = await page.$$eval('[data-testid="log-subject"]', els => els.map(e => ({ text: e.textContent, shown: e.clientWidth, needs: e.scrollWidth, height: e.scrollHeight, clip: e.clientHeight })))
      expect(subjects.map(s => s.text)).toContain('first try from the browser')
      for (const s of subjects) {
        expect(s.shown).toBeGreaterThan(180)
        expect(s.needs).toBeLessThanOrEqual(s.shown + 1)
        expect(s.height).toBeLessThanOrEqual(s.clip + 1)
      }
    } finally {
      await page.evaluate(() => { document.body.style.gridTemplateColumns = '' })
    }
  })

  it('has an icon of its own, not the Model Library cube', async () => {
    const icon = page.locator('.comfydock-tab-button i')
    expect(await icon.getAttribute('class')).not.toMatch(/pi-box/)
    const look = await icon.evaluate(e => ({ mask: getComputedStyle(e).webkitMaskImage || getComputedStyle(e).maskImage, w: e.getBoundingClientRect().width }))
    expect(look.mask).toContain('data:image/svg+xml')
    expect(look.w).toBeGreaterThan(8)
  })

  it('names the frontend version in every error it reports', async () => {
    await page.evaluate(() => (window as any).__comfydock.controller.restore('portrait', 'deadbeefdeadbeef'))
    await page.waitForFunction(() => document.querySelector('#toasts')?.textContent?.includes('Restore failed'))
    const toast = await page.locator('.toast-error', { hasText: 'Restore failed' }).last().textContent()
    expect(toast).toContain('ComfyUI frontend 1.4.13')
  })

  it('downloads a missing model from the panel, after which it is no longer missing', async () => {
    files.file('/models/fetched.safetensors', Buffer.alloc(512 * 1024, 3))
    const url = `${files.url}/models/fetched.safetensors`
    await openGraphInTab(page, 'needs-model', [graphNode('CheckpointLoaderSimple', { models: [{ name: 'fetched.safetensors', url, directory: 'checkpoints' }] }, ['fetched.safetensors'])])
    await page.click('button[title="refresh"]')
    const row = page.locator('[data-testid="tab-needs-model"]')
    await row.locator('[data-testid="download"]').waitFor({ timeout: 10_000 })
    expect(await row.textContent()).toContain('missing model fetched.safetensors')
    await row.locator('[data-testid="download"]').click()
    await page.waitForFunction(() => document.querySelector('#toasts')?.textContent?.includes('Downloaded fetched.safetensors'), null, { timeout: 20_000 })
    expect(readFileSync(join(env.ws.modelsDir, 'checkpoints', 'fetched.safetensors')).length).toBe(512 * 1024)
    await page.waitForFunction(() => !document.querySelector('[data-testid="tab-needs-model"]')?.textContent?.includes('missing model'), null, { timeout: 10_000 })
  })

  it('shows a download\'s bytes, percent and retries live, and Cancel stops it leaving the model missing', async () => {
    // the first answer breaks off (the downloader tries again), the second trickles 64 MiB
    let requests = 0
    const slow: Server = createServer((req, res) => {
      requests += 1
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(64 * 1024 * 1024) })
      if (requests === 1) { res.write(Buffer.alloc(128 * 1024, 1), () => res.destroy()); return }
      const timer = setInterval(() => res.write(Buffer.alloc(64 * 1024, 7)), 20)
      res.on('close', () => clearInterval(timer))
    })
    await new Promise<void>(r => slow.listen(0, '127.0.0.1', r))
    try {
      const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/slow.safetensors`
      await openGraphInTab(page, 'slow-model', [graphNode('CheckpointLoaderSimple', { models: [{ name: 'slow.safetensors', url, directory: 'checkpoints' }] }, ['slow.safetensors'])])
      await page.click('button[title="refresh"]')
      const row = page.locator('[data-testid="tab-slow-model"]')
      await row.locator('[data-testid="download"]').click({ timeout: 10_000 })
      const job = page.locator('[data-testid="job"]', { hasText: 'Download slow.safetensors' })
      await page.waitForFunction(() => /MiB of 64 MiB · \d+% · retry 1/.test(document.querySelector('[data-testid="job-progress"]')?.textContent ?? ''), null, { timeout: 15_000 })
      expect(await job.locator('progress').getAttribute('value')).not.toBeNull()
      const cancelsBefore = sent.filter(f => f.includes('"op.cancel"')).length
      await job.locator('[data-testid="cancel"]').click()
      await page.waitForFunction(() => document.querySelector('#toasts')?.textContent?.includes('Download slow.safetensors cancelled'), null, { timeout: 10_000 })
      await page.waitForFunction(() => !document.querySelector('[data-testid="job"]'))
      // op.cancel named the download's own request
      const frames = sent.map(f => JSON.parse(f))
      const download = frames.filter(f => f.method === 'models.download').at(-1)
      expect(frames.filter(f => f.method === 'op.cancel').slice(cancelsBefore).map(f => f.params.request)).toEqual([download.id])
      expect(existsSync(join(env.ws.modelsDir, 'checkpoints', 'slow.safetensors'))).toBe(false)
      await page.click('button[title="refresh"]')
      await page.waitForTimeout(300)
      expect(await row.textContent()).toContain('missing model slow.safetensors')
      expect(await row.locator('[data-testid="download"]').isEnabled()).toBe(true)
    } finally {
      slow.closeAllConnections()
      await new Promise(r => slow.close(r))
    }
  })

  it('shows "failed to load" with ComfyUI\'s reason for an installed pack that did not import, not Install', async () => {
    await openGraphInTab(page, 'uses-broken-pack', [graphNode('BrokenNode', { cnr_id: 'broken-pack', ver: '1.0.0' }, [])])
    await page.click('button[title="refresh"]')
    const row = page.locator('[data-testid="tab-uses-broken-pack"]')
    await row.locator('[data-testid="failed-to-load"]').waitFor({ timeout: 10_000 })
    const text = await row.textContent()
    expect(text).toContain('broken-pack failed to load')
    expect(text).toContain("No module named 'cv2'")
    expect(await row.locator('[data-testid="install"]').count()).toBe(0)
  })

  it('exports the environment from the menu command and offers the bundle for download', async () => {
    const download = page.waitForEvent('download', { timeout: 20_000 })
    await page.locator('.menu-item', { hasText: 'Export environment' }).click()
    const file = await download
    expect(file.suggestedFilename()).toMatch(/^demo_export_.*\.tar\.gz$/)
    const bytes = readFileSync(await file.path())
    expect(bytes.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]))
  })

  it('runs the export from its keybinding (Ctrl+Alt+E)', async () => {
    const download = page.waitForEvent('download', { timeout: 20_000 })
    await page.keyboard.press('Control+Alt+KeyE')
    expect((await download).suggestedFilename()).toMatch(/^demo_export_.*\.tar\.gz$/)
  })

  it('sends ComfyUI\'s object_info once per page, not with every analysis', async () => {
    const frames = sent.map(f => JSON.parse(f))
    const analyses = frames.filter(f => f.method === 'workflows.analyze')
    const contexts = frames.filter(f => f.method === 'session.context')
    expect(analyses.length).toBeGreaterThan(3)
    expect(analyses.every(f => !('objectInfo' in f.params))).toBe(true)
    // object_info by value once; later (new model lists after the download) by hash alone
    const byValue = contexts.filter(f => f.params.objectInfo?.value)
    expect(byValue.length).toBe(1)
    expect(Object.keys(byValue[0].params.objectInfo.value)).toContain('KSampler')
    expect(contexts.filter(f => f.params.modelLists?.value).length).toBe(2)
  })

  it('offers Repair for a committed workflow missing from ComfyUI, and never tells the user to type a command', async () => {
    const userDir = join(env.comfyui, 'user', 'default', 'workflows')
    const graph = { last_node_id: 0, last_link_id: 0, nodes: [], links: [], groups: [], config: {}, extra: {}, version: 0.4 }
    writeFileSync(join(userDir, 'orphan.json'), JSON.stringify(graph))
    await trackWorkflows(env.ws.env('demo'), ['orphan'])
    await commitEnvironment(env.ws, env.ws.env('demo'), { message: 'orphan committed from the CLI', allowIssues: true })
    rmSync(join(userDir, 'orphan.json'))
    await page.evaluate(() => { const c = (window as any).__comfydock.controller; c.requestFullStatus(); return c.refresh() })
    const banner = page.locator('[data-testid="status-repair"]')
    await banner.waitFor({ timeout: 15_000 })
    // what the workflow lacks is listed with it, as `status` lists it
    await page.locator('[data-testid="attention-orphan"]', { hasText: 'deleted in ComfyUI' }).waitFor({ timeout: 5000 })
    const text = await page.textContent('[data-testid="comfydock-panel"]')
    expect(text).not.toMatch(/comfydock (-e|repair|commit|use|workflow)/)
    expect(await banner.textContent()).toContain('1 thing to repair')
    await banner.locator('[data-testid="repair-repair"]').click()
    await page.waitForFunction(() => document.querySelector('#toasts')?.textContent?.includes('put back orphan'), null, { timeout: 20_000 })
    expect(JSON.parse(readFileSync(join(userDir, 'orphan.json'), 'utf8'))).toEqual(graph)
    await page.waitForFunction(() => !document.querySelector('[data-testid="status-repair"]'), null, { timeout: 15_000 })
    expect(await page.locator('[data-testid="attention-orphan"]').count()).toBe(0)
  })

  it('shows no "Workflows needing attention" heading when no workflow needs attention', async () => {
    // after the Repair above, every workflow not open in a tab is in order
    await page.waitForFunction(() => (window as any).__comfydock.controller.state.status?.details?.sections?.workflows, null, { timeout: 15_000 })
    expect(await page.locator('[data-testid^="attention-"]').count()).toBe(0)
    expect(await page.isVisible('[data-testid="attention"]')).toBe(false)
    expect(await page.getByText('Workflows needing attention').count()).toBe(0)
  })

  it('lists what a workflow not open in a tab lacks, with a Download button that fixes it', async () => {
    files.file('/models/elsewhere.safetensors', Buffer.alloc(64 * 1024, 5))
    const wf = { last_node_id: 1, last_link_id: 0, nodes: [{ id: 1, type: 'CheckpointLoaderSimple', pos: [0, 0], size: [300, 100], flags: {}, order: 0, mode: 0, inputs: [], outputs: [], properties: { models: [{ name: 'elsewhere.safetensors', url: `${files.url}/models/elsewhere.safetensors`, directory: 'checkpoints' }] }, widgets_values: ['elsewhere.safetensors'] }], links: [], groups: [], config: {}, extra: {}, version: 0.4 }
    writeFileSync(join(env.comfyui, 'user', 'default', 'workflows', 'closed-one.json'), JSON.stringify(wf))
    await page.evaluate(() => { const c = (window as any).__comfydock.controller; c.requestFullStatus(); return c.refresh() })
    const row = page.locator('[data-testid="attention-closed-one"]')
    await row.locator('[data-testid="download"]').waitFor({ timeout: 15_000 })
    expect(await row.textContent()).toContain('missing model elsewhere.safetensors')
    await row.locator('[data-testid="download"]').click()
    await page.waitForFunction(() => document.querySelector('#toasts')?.textContent?.includes('Downloaded elsewhere.safetensors'), null, { timeout: 20_000 })
    expect(existsSync(join(env.ws.modelsDir, 'checkpoints', 'elsewhere.safetensors'))).toBe(true)
    await page.waitForFunction(() => !document.querySelector('[data-testid="attention-closed-one"]')?.textContent?.includes('missing model'), null, { timeout: 15_000 })
  })

  it('restores the active tab\'s workflow by default, following the active tab until the user picks one', async () => {
    // a page of its own: the main page's list was picked by hand in the tests above
    const other = await browser.newPage()
    other.on('pageerror', e => errors.push(String(e)))
    try {
      await other.goto(harness.url)
      await other.waitForFunction(() => (window as any).__harnessReady || (window as any).__harnessError, null, { timeout: 20_000 })
      await other.click('.comfydock-tab-button')
      await other.waitForFunction(() => document.querySelector('[data-testid="env-name"]')?.textContent === 'demo')
      // two committed workflows opened one after the other: the second is the active tab
      await openGraphInTab(other, 'Unsaved Workflow (2)', [graphNode('CheckpointLoaderSimple')])
      await other.waitForFunction(() => document.querySelectorAll('[data-testid="restore-target"] option').length === 1, null, { timeout: 15_000 })
      await openGraphInTab(other, 'orphan', [])
      await other.waitForFunction(() => document.querySelectorAll('[data-testid="restore-target"] option').length === 2, null, { timeout: 15_000 })
      const target = () => other.$eval('[data-testid="restore-target"]', s => (s as HTMLSelectElement).value)
      expect(await target()).toBe('orphan')
      await other.evaluate(() => (window as any).__harness.switchTo('workflows/Unsaved Workflow (2).json'))
      await other.waitForFunction(() => (document.querySelector('[data-testid="restore-target"]') as HTMLSelectElement | null)?.value === 'Unsaved Workflow (2)', null, { timeout: 5000 })
      // once the user picks one, switching tabs leaves the pick alone
      await other.selectOption('[data-testid="restore-target"]', 'orphan')
      await other.evaluate(() => (window as any).__harness.switchTo('workflows/orphan.json'))
      await other.evaluate(() => (window as any).__harness.switchTo('workflows/Unsaved Workflow (2).json'))
      await other.waitForFunction(() => document.querySelector('[data-testid="tab-Unsaved Workflow (2)"]')?.getAttribute('data-active') === 'true', null, { timeout: 5000 })
      expect(await target()).toBe('orphan')
    } finally {
      await other.close()
    }
  })

  it('"Commit and export": an export that needs a commit offers to make it, then downloads the bundle', async () => {
    // a saved workflow changed on disk since its commit
    const orphan = join(env.comfyui, 'user', 'default', 'workflows', 'orphan.json')
    writeFileSync(orphan, JSON.stringify({ ...JSON.parse(readFileSync(orphan, 'utf8')), extra: { note: 'edited' } }))
    const asked: string[] = []
    const onDialog = (d: { message: () => string }) => { asked.push(d.message()) }
    page.on('dialog', onDialog)
    try {
      const download = page.waitForEvent('download', { timeout: 30_000 })
      await page.locator('.menu-item', { hasText: 'Export environment' }).click()
      expect((await download).suggestedFilename()).toMatch(/^demo_export_.*\.tar\.gz$/)
    } finally {
      page.off('dialog', onDialog)
    }
    expect(asked.some(m => m.startsWith('Commit and export'))).toBe(true)
    const [head] = await openGit(env.cec).log({ limit: 1 })
    expect(head.subject).toBe('Before export')
    expect(JSON.parse(readFileSync(join(env.cec, 'workflows', 'orphan.json'), 'utf8')).extra).toEqual({ note: 'edited' })
    expect(await page.textContent('#toasts')).not.toMatch(/`comfydock/)
  })

  it('with no active environment it offers the workspace\'s environments as buttons, not `comfydock use`', async () => {
    await env.ws.setActive(null)
    await page.click('button[title="refresh"]')
    const banner = page.locator('[data-testid="no-env"]')
    await banner.waitFor({ timeout: 10_000 })
    expect(await banner.textContent()).not.toContain('comfydock')
    await banner.locator('[data-testid="use-demo"]').click()
    await page.waitForFunction(() => document.querySelector('[data-testid="env-name"]')?.textContent === 'demo', null, { timeout: 10_000 })
    expect(await page.locator('[data-testid="no-env"]').count()).toBe(0)
    expect((await Workspace.open(env.root)).activeEnvironment).toBe('demo')
  })

  it('shows the sidecar as offline when it goes away, and reconnects when it is back', async () => {
    const port = sidecar.port
    await sidecar.close()
    await page.waitForFunction(() => document.querySelector('[data-testid="connection"]')?.textContent?.includes('offline'), null, { timeout: 10_000 })
    expect(await page.isVisible('[data-testid="offline"]')).toBe(true)
    sidecar = await startSidecar({ workspaceRoot: env.root, origins: [harness.url], port, token: bridge.token! })
    await page.waitForFunction(() => document.querySelector('[data-testid="connection"]')?.textContent?.includes('connected'), null, { timeout: 20_000 })
  })

  it('on a frontend below its floor it says what is missing instead of failing', async () => {
    const old = await browser.newPage()
    const oldErrors: string[] = []
    old.on('pageerror', e => oldErrors.push(String(e)))
    await old.goto(`${harness.url}/?version=1.2.0&noWorkflowStore=1`)
    await old.waitForFunction(() => (window as any).__harnessReady || (window as any).__harnessError, null, { timeout: 20_000 })
    await old.waitForFunction(() => document.querySelector('#toasts')?.textContent?.includes('limited support'))
    const toast = await old.textContent('#toasts')
    expect(toast).toContain('1.2.0 (needs 1.3.34 or newer)')
    expect(toast).toContain('workflow store')
    await old.click('.comfydock-tab-button')
    await old.waitForSelector('[data-testid="comfydock-panel"]')
    expect(await old.textContent('[data-testid="comfydock-panel"]')).toContain('lacks')
    expect(oldErrors).toEqual([])
    await old.close()
  })

  it('without a bridge answer it says how to connect, and the settings override connects it', async () => {
    const saved = { ...bridge }
    bridge.url = null
    bridge.token = null
    const other = await browser.newPage()
    try {
      await other.goto(harness.url)
      await other.waitForFunction(() => (window as any).__harnessReady, null, { timeout: 20_000 })
      await other.click('.comfydock-tab-button')
      await other.waitForSelector('[data-testid="offline"]')
      expect(await other.textContent('[data-testid="offline"]')).toContain('comfydock serve')
      expect(await other.textContent('[data-testid="connection"]')).toContain('no sidecar')
      await other.evaluate(({ url, token }) => {
        const setting = (window as any).__harness.app.extensionManager.setting
        setting.set('Comfydock.SidecarToken', token)
        setting.set('Comfydock.SidecarUrl', url)
      }, { url: saved.url, token: saved.token })
      await other.waitForFunction(() => document.querySelector('[data-testid="connection"]')?.textContent?.includes('connected'), null, { timeout: 10_000 })
      await other.waitForFunction(() => document.querySelector('[data-testid="env-name"]')?.textContent === 'demo')
    } finally {
      Object.assign(bridge, saved)
      await other.close()
    }
  })

  it('raised no page errors', () => {
    expect(errors).toEqual([])
  })
})
