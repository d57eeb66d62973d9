/**
 * The panel's actions in a real ComfyUI, where the harness page cannot prove them: what ComfyUI itself
 * lists and fails to load, its real sidebar and toasts. On the oldest and the newest pinned frontend
 * (COMFYDOCK_REAL_FRONTENDS picks others). See README.md beside this file.
 * - a model in a subfolder (`checkpoints/sdxl/…`) is ok in the panel and in `comfydock status --json`;
 * - a pack that is installed but raises on import shows "failed to load" with the reason, not Install;
 * - a pack deleted from custom_nodes gets a Repair button that puts it back; no text in the panel or
 *   its toasts tells the user to run a `comfydock …` command;
 * - a Download shows its bytes, percent and retries as they happen (not a spinner), and Cancel stops it;
 * - Export with uncommitted changes offers "Commit and export" instead of a toast naming `comfydock commit`;
 * - the sidebar button has the comfydock icon, not the Model Library cube.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { launchChromium } from '../e2e/browser'
import { pathWithoutUv } from '../support/venv'
import { envPaths, resetEnvironment, startComfyUI, writeUserSettings, type RunningComfyUI } from './support/comfyui'
import { dismissDialogs, openComfyUI, screenshotOnFailure, t, type ComfyPage } from './support/page'
import { downloadOf, openPanel, waitConnected } from './support/panel'
import { allFrontendPins, frontendPins, REPO } from './support/prepare'

const setup = inject('realComfyui')
const CLI = join(REPO, 'dist', 'cli.js')
const GOOD = 'cfd-good-pack'
const BROKEN = 'cfd-broken-pack'
const MODEL = 'sdxl/cfd_base_in_subfolder.safetensors'
const ABSENT = 'sdxl/cfd_not_here.safetensors'
/** A model the workflow names with a download URL (node `properties.models`, as ComfyUI's templates do). */
const SLOW = 'cfd_slow_download.safetensors'
const SLOW_SIZE = 64 * 1024 * 1024
/** Added while ComfyUI runs, after the page read its model lists. */
const LATER = 'sdxl/cfd_added_later.safetensors'
/** Text that sends the user to a terminal instead of offering the action. */
const COMMAND_TEXT = /comfydock\s+(-e\s|--[a-z]|(repair|commit|use|workflow|node|run|serve|status|model|export|import|create|pull|push|restore|log|adopt)\b)/i

function cli (args: string[]): string {
  const { constraints } = setup
  // environments here are venv + pip against Debian's torch (see support/prepare.ts)
  return execFileSync(process.execPath, [CLI, '--workspace', setup.workspace, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', PIP_CONSTRAINT: constraints, UV_CONSTRAINT: constraints, PATH: pathWithoutUv() },
  })
}

/** A custom node pack as a git repository of its own, as `comfydock node add <repo>` takes it. */
function packRepo (parent: string, name: string, init: string): string {
  const dir = join(parent, name)
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, '__init__.py'), init)
  const who = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@invalid' }
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: dir })
  execFileSync('git', ['add', '-A'], { cwd: dir })
  execFileSync('git', ['commit', '-q', '-m', name], { cwd: dir, env: { ...process.env, ...who } })
  return dir
}

const GOOD_INIT = `class CfdGoodNode:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {}}
    RETURN_TYPES = ()
    FUNCTION = "run"
    CATEGORY = "comfydock test"
    def run(self):
        return ()

NODE_CLASS_MAPPINGS = {"CfdGoodNode": CfdGoodNode}
`
// what a pack whose dependency did not install does when ComfyUI imports it
const BROKEN_INIT = `import cfd_dependency_that_is_not_installed  # noqa: F401

NODE_CLASS_MAPPINGS = {}
`

function node (id: number, type: string, widgets: unknown[], properties: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, type, pos: [100 + 350 * (id - 1), 100], size: [300, 120], flags: {}, order: id - 1, mode: 0, inputs: [], outputs: [], properties, widgets_values: widgets }
}

function workflow (nodes: Array<Record<string, unknown>>): Record<string, unknown> {
  return { last_node_id: nodes.length, last_link_id: 0, nodes, links: [], groups: [], config: {}, extra: {}, version: 0.4 }
}

/** What a panel row says about the models and nodes a workflow lacks (the DOM the user reads). */
function rowText (page: Page, name: string): Promise<string> {
  return page.locator(`[data-testid="tab-${name}"]`).innerText()
}

/**
 * Every toast shown from now on, as its text: recorded where the frontend's toast manager takes it, since
 * each release draws toasts differently (PrimeVue's, then its own) and they go away after a few seconds.
 */
async function recordToasts (page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as any
    const toasts = w.__t.app().extensionManager.toast
    const add = toasts.add.bind(toasts)
    w.__toasts = []
    toasts.add = (m: { summary?: string, detail?: string }) => {
      w.__toasts.push([m.summary, m.detail].filter(Boolean).join('\n'))
      return add(m)
    }
  })
}

const oldest = allFrontendPins()[0].version
const pins = process.env.COMFYDOCK_REAL_FRONTENDS ? frontendPins() : frontendPins().filter(p => p.version === oldest || p.newest)

for (const pin of pins) {
  describe.sequential(`panel actions, frontend ${pin.version} (ComfyUI ${pin.backend})`, () => {
    const env = setup.envs[pin.backend]
    const paths = envPaths(setup, env)
    const modelFile = join(setup.workspace, 'models', 'checkpoints', MODEL)
    const packs = [GOOD, BROKEN].map(p => join(paths.comfyui, 'custom_nodes', p))
    let comfy: RunningComfyUI
    let browser: Browser
    let cp: ComfyPage
    let page: Page
    // a model host on loopback: the first answer breaks off (the downloader tries again), the second trickles
    let requests = 0
    const slow: Server = createServer((_req, res) => {
      requests += 1
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(SLOW_SIZE) })
      if (requests === 1) { res.write(Buffer.alloc(128 * 1024, 1), () => res.destroy()); return }
      const timer = setInterval(() => res.write(Buffer.alloc(64 * 1024, 7)), 20)
      res.on('close', () => clearInterval(timer))
    })

    beforeAll(async () => {
      await new Promise<void>(r => slow.listen(0, '127.0.0.1', r))
      resetEnvironment(setup, env, packs)
      const repos = mkdtempSync(join(setup.workspace, '..', 'packs-'))
      try {
        cli(['-e', env, 'node', 'add', packRepo(repos, GOOD, GOOD_INIT), packRepo(repos, BROKEN, BROKEN_INIT), '--yes'])
      } finally {
        rmSync(repos, { recursive: true, force: true })
      }
      // a model in a subfolder of its category, where ComfyUI lists it as `sdxl/…`
      mkdirSync(join(modelFile, '..'), { recursive: true })
      writeFileSync(modelFile, Buffer.alloc(8192, 7))
      cli(['model', 'index', 'sync'])
      mkdirSync(paths.userWorkflows, { recursive: true })
      writeFileSync(join(paths.userWorkflows, 'models.json'), JSON.stringify(workflow([
        node(1, 'CheckpointLoaderSimple', [MODEL]),
        node(2, 'CheckpointLoaderSimple', [ABSENT]),
      ])))
      // its model comes later, while the page is open
      writeFileSync(join(paths.userWorkflows, 'later.json'), JSON.stringify(workflow([node(1, 'CheckpointLoaderSimple', [LATER])])))
      writeFileSync(join(paths.userWorkflows, 'broken.json'), JSON.stringify(workflow([
        node(1, 'CfdBrokenNode', [], { cnr_id: BROKEN, ver: '1.0.0' }),
      ])))
      cli(['-e', env, 'workflow', 'track', '--all'])
      cli(['-e', env, 'commit', '-m', 'packs, a model in a subfolder', '--allow-issues'])
      // not tracked: Repair (below) is not to fetch it
      writeFileSync(join(paths.userWorkflows, 'download.json'), JSON.stringify(workflow([
        node(1, 'CheckpointLoaderSimple', [SLOW], { models: [{ name: SLOW, url: `http://127.0.0.1:${(slow.address() as AddressInfo).port}/${SLOW}`, directory: 'checkpoints' }] }),
      ])))
      // the user (or a bad sync) deleted a pack the manifest pins
      rmSync(join(paths.comfyui, 'custom_nodes', GOOD), { recursive: true, force: true })
      writeUserSettings(paths.comfyui)
      comfy = await startComfyUI(setup, env, { frontendRoot: setup.frontendRoots[pin.version] })
      browser = await launchChromium()
      cp = await openComfyUI(browser, comfy.url)
      page = cp.page
      await recordToasts(page)
    })

    beforeEach(ctx => screenshotOnFailure(ctx, `actions-${pin.version}`, () => page))

    afterAll(async () => {
      await cp?.close()
      await browser?.close()
      await comfy?.stop()
      slow.closeAllConnections()
      await new Promise(r => slow.close(r))
      rmSync(join(paths.userWorkflows, 'download.json'), { force: true })
      // the next file's ComfyUI must not see this file's packs or models
      resetEnvironment(setup, env, packs)
      rmSync(join(setup.workspace, 'models', 'checkpoints', 'sdxl'), { recursive: true, force: true })
      cli(['model', 'index', 'sync'])
    })

    it('has the comfydock icon in the sidebar, not the Model Library cube', async () => {
      const button = page.locator('.comfydock-tab-button, .side-bar-button[aria-label*="comfydock" i]').first()
      await button.waitFor({ timeout: 20_000 })
      const icon = button.locator('i, .side-bar-button-icon').first()
      const look = await icon.evaluate(e => {
        const style = getComputedStyle(e)
        const box = e.getBoundingClientRect()
        return { cls: e.getAttribute('class') ?? '', mask: style.webkitMaskImage || style.maskImage, w: box.width, h: box.height, visible: style.visibility !== 'hidden' && style.display !== 'none' }
      })
      expect(look.cls).not.toMatch(/\bpi-box\b/)
      expect(look.cls).toContain('cfd-icon-env')
      expect(look.mask).toContain('data:image/svg+xml')
      expect(look.visible).toBe(true)
      expect(look.w).toBeGreaterThan(8)
      expect(look.h).toBeGreaterThan(8)
      await openPanel(page)
      await waitConnected(page)
    })

    it('a model in a subfolder (checkpoints/sdxl/…) is ok in the panel and in `comfydock status --json`; what is missing is missing in both', async () => {
      await t(page, 'openSaved', 'workflows/models.json')
      await t(page, 'refresh')
      await page.waitForFunction(() => ((window as any).__comfydock.controller.state.tabs as any[]).some(x => x.tab.name === 'models' && x.analysis), null, { timeout: 20_000 })
      const panel = await page.evaluate(() => ((window as any).__comfydock.controller.state.tabs as any[]).find(x => x.tab.name === 'models').analysis.missingModels.map((m: any) => `${m.folder}/${m.value}`).sort())
      const status = JSON.parse(cli(['-e', env, 'status', '--json']))
      const entry = status.sections.workflows.workflows.find((w: any) => w.name === 'models')
      const fromCli = entry.missing_models.map((m: any) => `${m.folder}/${m.path}`).sort()
      expect(fromCli).toEqual([`checkpoints/${ABSENT}`])
      expect(panel).toEqual(fromCli)
      const text = await rowText(page, 'models')
      expect(text).toContain(`missing model ${ABSENT}`)
      expect(text).not.toContain('cfd_base_in_subfolder')
    })

    it('a model put in a subfolder while ComfyUI runs (after the page read its model lists) is ok in the panel as in `comfydock status --json`', async () => {
      // as a download from the CLI leaves it: in the shared model store and in the index, while the page
      // is open; the panel must not judge by the model lists it read when the page loaded (a file written
      // while the page is open would need syncWorkflows(), which on 1.4.13 unloads the saved workflows)
      writeFileSync(join(setup.workspace, 'models', 'checkpoints', LATER), Buffer.alloc(8192, 9))
      cli(['model', 'index', 'sync'])
      await t(page, 'openSaved', 'workflows/later.json')
      await t(page, 'refresh')
      await page.waitForFunction(() => ((window as any).__comfydock.controller.state.tabs as any[]).some(x => x.tab.name === 'later' && x.analysis), null, { timeout: 20_000 })
      const panel = await page.evaluate(() => ((window as any).__comfydock.controller.state.tabs as any[]).find(x => x.tab.name === 'later').analysis.missingModels.map((m: any) => `${m.folder}/${m.value}`))
      const status = JSON.parse(cli(['-e', env, 'status', '--json']))
      expect(status.sections.workflows.workflows.find((w: any) => w.name === 'later').missing_models).toEqual([])
      expect(panel).toEqual([])
      expect(await rowText(page, 'later')).not.toContain('cfd_added_later')
    })

    it('a pack that is installed but raises on import shows "failed to load" with the reason, not Install', async () => {
      // ComfyUI really did fail to import it: its node type is not in /object_info
      const info = await (await fetch(`${comfy.url}/api/object_info`)).json() as Record<string, unknown>
      expect(info.CfdBrokenNode).toBeUndefined()
      expect(existsSync(join(paths.comfyui, 'custom_nodes', BROKEN, '__init__.py'))).toBe(true)
      await t(page, 'openSaved', 'workflows/broken.json')
      // the frontend's own "Missing Node Types" notice, closed as a user closes it
      await dismissDialogs(page)
      await t(page, 'refresh')
      const row = page.locator('[data-testid="tab-broken"]')
      await row.locator('[data-testid="failed-to-load"]').waitFor({ timeout: 20_000 })
      const text = await row.innerText()
      expect(text).toContain(`node CfdBrokenNode: ${BROKEN} failed to load`)
      // the reason is ComfyUI's own, from its log (through the bridge)
      // its last line, the error itself, is what shows (the traceback is folded below it)
      expect(await row.locator('[data-testid="load-error"]').innerText()).toBe("ModuleNotFoundError: No module named 'cfd_dependency_that_is_not_installed'")
      expect(await row.locator('details.cfd-reason').innerText()).toContain('traceback')
      expect(await row.locator('[data-testid="install"]').count()).toBe(0)
    })

    it('a Download shows its bytes, percent and retries as they happen, and Cancel stops it, the model still missing', async () => {
      await t(page, 'openSaved', 'workflows/download.json')
      // the frontend's own notice of missing models, closed as a user closes it
      await dismissDialogs(page)
      await t(page, 'refresh')
      const row = page.locator('[data-testid="tab-download"]')
      await row.locator('[data-testid="download"]').click({ timeout: 20_000 })
      const job = page.locator('[data-testid="job"]', { hasText: `Download ${SLOW}` })
      await job.waitFor({ timeout: 20_000 })
      // live facts, not a spinner: bytes of the whole, percent, and the retry after the broken first answer
      await page.waitForFunction(() => /MiB of 64 MiB · \d+% · retry 1/.test(document.querySelector('[data-testid="job-progress"]')?.textContent ?? ''), null, { timeout: 30_000 })
      const first = await job.locator('[data-testid="job-progress"]').innerText()
      await page.waitForFunction(was => { const now = document.querySelector('[data-testid="job-progress"]')?.textContent ?? ''; return now !== was && /MiB of 64 MiB/.test(now) }, first, { timeout: 10_000 })
      expect(Number(await job.locator('progress').getAttribute('value'))).toBeGreaterThan(0)
      await job.locator('[data-testid="cancel"]').click()
      await page.waitForFunction(s => ((window as any).__toasts as string[]).some(x => x.includes(`Download ${s} cancelled`)), SLOW, { timeout: 20_000 })
      await job.waitFor({ state: 'detached', timeout: 10_000 })
      expect(existsSync(join(setup.workspace, 'models', 'checkpoints', SLOW))).toBe(false)
      await t(page, 'refresh')
      expect(await rowText(page, 'download')).toContain(`missing model ${SLOW}`)
      expect(await row.locator('[data-testid="download"]').isEnabled()).toBe(true)
    })

    it('a pack deleted from custom_nodes gets a Repair button that puts it back; nothing in the panel or its toasts names a comfydock command', async () => {
      await dismissDialogs(page)
      const banner = page.locator('[data-testid="status-nodes"]')
      await banner.waitFor({ timeout: 20_000 })
      const panelText = await page.locator('[data-testid="comfydock-panel"]').innerText()
      expect(panelText).not.toMatch(COMMAND_TEXT)
      await banner.locator('[data-testid="repair-nodes"]').click()
      await page.waitForFunction(() => ((window as any).__toasts as string[]).some(x => /Repaired|Repair left problems/.test(x)), null, { timeout: 90_000 })
      // the user sees it
      await page.getByText(/Repaired|Repair left problems/).first().waitFor({ timeout: 5000 })
      expect(existsSync(join(paths.comfyui, 'custom_nodes', GOOD, '__init__.py'))).toBe(true)
      await page.locator('[data-testid="status-nodes"]').waitFor({ state: 'detached', timeout: 20_000 })
      const toasts = await page.evaluate(() => (window as any).__toasts as string[])
      expect(toasts.filter(x => /Repair/.test(x)).join('\n')).toContain('Repaired')
      for (const x of toasts) expect(x).not.toMatch(COMMAND_TEXT)
      expect(await page.locator('[data-testid="comfydock-panel"]').innerText()).not.toMatch(COMMAND_TEXT)
      expect(cp.extensionErrors()).toEqual([])
    })

    it('Export with uncommitted changes offers "Commit and export": they are committed, the bundle downloads, and no toast names a command', async () => {
      const cec = (args: string[]): string => execFileSync('git', ['-C', paths.cec, ...args], { encoding: 'utf8' })
      // the user tracked a workflow in a terminal and did not commit
      writeFileSync(join(paths.userWorkflows, 'export-me.json'), JSON.stringify(workflow([node(1, 'EmptyLatentImage', [512, 512, 1])])))
      cli(['-e', env, 'workflow', 'track', 'export-me'])
      expect(cec(['status', '--porcelain']).trim()).not.toBe('')
      const seen = await page.evaluate(() => ((window as any).__toasts as string[]).length)
      const { download, asked } = await downloadOf(page, () => page.evaluate(() => { void (window as any).__t.app().extensionManager.command.execute('Comfydock.ExportEnvironment') }))
      expect(download.suggestedFilename()).toMatch(new RegExp(`^${env}_export_.*\\.tar\\.gz$`))
      expect(asked.filter(q => q.includes('Commit these changes'))).toHaveLength(1)
      expect(cec(['log', '-1', '--format=%s']).trim()).toBe('Before export')
      expect(cec(['status', '--porcelain']).trim()).toBe('')
      const toasts = await page.evaluate(n => ((window as any).__toasts as string[]).slice(n), seen)
      for (const x of toasts) expect(x).not.toMatch(COMMAND_TEXT)
      expect(cp.extensionErrors()).toEqual([])
    })
  })
}
