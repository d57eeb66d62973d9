/**
 * The panel in a real ComfyUI, for every pinned frontend (frontends.json), as a user meets it: ComfyUI
 * started by `comfydock -e ENV run`, the page in Chromium, commits and restores from the panel, the
 * Export command from the menu and its keybinding. See README.md beside this file.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { launchChromium } from '../e2e/browser'
import { envPaths, startComfyUI, writeUserSettings, type RunningComfyUI } from './support/comfyui'
import { confirmIfAsked, openComfyUI, openPanel, t, type ComfyPage } from './support/page'
import { frontendPins, REPO } from './support/prepare'
import { compareVersions } from '../../extension/versions'

const setup = inject('realComfyui')
const CLI = join(REPO, 'dist', 'cli.js')
const SHOTS = join(REPO, 'test', '.tmp', 'real-comfyui-failures')

function git (cec: string, args: string[]): string {
  return execFileSync('git', ['-C', cec, ...args], { encoding: 'utf8' })
}

function cli (args: string[]): string {
  return execFileSync(process.execPath, [CLI, '--workspace', setup.workspace, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } })
}

const nodeTypes = (g: any): string[] => (g?.nodes ?? []).map((n: any) => n.type).sort()

/** A small saved workflow as older ComfyUI wrote them (no graph id), with node types every backend has. */
function savedWorkflow (types: string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    last_node_id: types.length,
    last_link_id: 0,
    nodes: types.map((type, i) => ({ id: i + 1, type, pos: [100 + 320 * i, 100], size: [300, 120], flags: {}, order: i, mode: 0, inputs: [], outputs: [], properties: {}, widgets_values: type === 'EmptyLatentImage' ? [512, 512, 1] : [] })),
    links: [],
    groups: [],
    config: {},
    extra: {},
    version: 0.4,
    ...extra,
  }
}

/** Each frontend starts from the environment as `create` left it: no workflows, no commits after the first. */
function resetEnvironment (env: string): void {
  const p = envPaths(setup, env)
  const first = git(p.cec, ['rev-list', '--max-parents=0', 'HEAD']).trim()
  git(p.cec, ['reset', '-q', '--hard', first])
  git(p.cec, ['clean', '-q', '-fd'])
  rmSync(p.userWorkflows, { recursive: true, force: true })
}

async function panelTab (page: Page, name: string): Promise<{ name: string, active: boolean, modified: boolean, tracked?: boolean, differs?: boolean } | undefined> {
  return (await t<any[]>(page, 'panelTabs')).find(x => x.name === name)
}

async function waitPanel (page: Page, fn: string, arg?: unknown, timeout = 20_000): Promise<void> {
  await page.waitForFunction(`(${fn})(${JSON.stringify(arg ?? null)})`, null, { timeout })
}

for (const pin of frontendPins()) {
  describe.sequential(`frontend ${pin.version} (ComfyUI ${pin.backend})`, () => {
    const env = setup.envs[pin.backend]
    const paths = envPaths(setup, env)
    const hasVueNodes = pin.version !== '1.4.13' && compareVersions(pin.version, '1.27.0') >= 0
    let comfy: RunningComfyUI
    let browser: Browser
    let cp: ComfyPage
    let page: Page

    beforeAll(async () => {
      resetEnvironment(env)
      // two tracked, committed workflows: one saved without a graph id, one with the all-zero id
      const userWf = paths.userWorkflows
      mkdirSync(userWf, { recursive: true })
      writeFileSync(join(userWf, 'landscape.json'), JSON.stringify(savedWorkflow(['CheckpointLoaderSimple', 'EmptyLatentImage'])))
      writeFileSync(join(userWf, 'night.json'), JSON.stringify(savedWorkflow(['VAELoader', 'EmptyLatentImage'], { id: '00000000-0000-0000-0000-000000000000' })))
      writeFileSync(join(userWf, 'portrait.json'), JSON.stringify(savedWorkflow(['CheckpointLoaderSimple'])))
      cli(['-e', env, 'workflow', 'track', '--all'])
      cli(['-e', env, 'commit', '-m', 'saved workflows', '--allow-issues'])
      writeUserSettings(paths.comfyui)
      comfy = await startComfyUI(setup, env, { frontendRoot: setup.frontendRoots[pin.version] })
      browser = await launchChromium()
      cp = await openComfyUI(browser, comfy.url)
      page = cp.page
    })

    // what the page looked like when a test failed, for whoever reads the CI log
    beforeEach(({ task, onTestFailed }) => {
      onTestFailed(async () => {
        const file = join(SHOTS, `${pin.version}-${task.name.slice(0, 40).replace(/\W+/g, '-')}.png`)
        mkdirSync(SHOTS, { recursive: true })
        await page?.screenshot({ path: file }).then(() => process.stderr.write(`[real-comfyui] screenshot: ${file}\n`), () => {})
      })
    })

    afterAll(async () => {
      await cp?.close()
      await browser?.close()
      await comfy?.stop()
    })

    it('connects to the sidecar of the environment it was started for, and lists every open tab with the active one marked', async () => {
      expect(await t(page, 'version')).toBe(pin.version)
      await openPanel(page)
      await page.waitForFunction(() => document.querySelector('[data-testid="connection"]')?.textContent?.includes('connected'), null, { timeout: 30_000 })
      // `comfydock -e ENV run`: the panel acts on ENV even where another environment is the active one
      await page.waitForFunction(e => document.querySelector('[data-testid="env-name"]')?.textContent === e, env, { timeout: 20_000 })
      const first = await t<string>(page, 'activePath')
      const second = await t<string>(page, 'newTab')
      expect(second).not.toBe(first)
      await page.waitForFunction(([a, b]) => {
        const rows = [...document.querySelectorAll('[data-testid^="tab-"][data-active]')].map(r => [r.getAttribute('data-testid'), r.getAttribute('data-active')])
        return rows.length === 2 && rows.some(r => r[0] === `tab-${b}` && r[1] === 'true') && rows.some(r => r[0] === `tab-${a}` && r[1] === 'false')
      }, [first.slice(10, -5), second.slice(10, -5)], { timeout: 20_000 })
    })

    it('commits an unsaved edit of the second tab from the panel: it is in git, the tab is saved, the badge is zero', async () => {
      const path = await t<string>(page, 'activePath')
      const name = path.slice('workflows/'.length, -'.json'.length)
      await t(page, 'addNode', 'CheckpointLoaderSimple', [100, 100])
      await t(page, 'addNode', 'EmptyLatentImage', [450, 100])
      await waitPanel(page, `n => (window.__t.panelTabs().find(x => x.name === n) || {}).modified`, name)
      page.once('dialog', d => { void d.accept() })
      await page.check(`[data-testid="select-${name}"]`)
      await page.fill('[data-testid="commit-message"]', `tab ${name} from ${pin.version}`)
      await page.click('[data-testid="commit"]')
      await page.waitForFunction(m => [...document.querySelectorAll('[data-testid="log-entry"]')].some(e => e.textContent?.includes(m)), `tab ${name} from ${pin.version}`, { timeout: 30_000 })
      expect(git(paths.cec, ['log', '-1', '--format=%s']).trim()).toBe(`tab ${name} from ${pin.version}`)
      const committed = JSON.parse(git(paths.cec, ['show', `HEAD:workflows/${name}.json`]))
      expect(nodeTypes(committed)).toEqual(['CheckpointLoaderSimple', 'EmptyLatentImage'])
      expect(nodeTypes(JSON.parse(readFileSync(join(paths.userWorkflows, `${name}.json`), 'utf8')))).toEqual(['CheckpointLoaderSimple', 'EmptyLatentImage'])
      // the frontend knows the tab is saved: no "unsaved" mark, so a later Restore asks nothing
      expect(await t(page, 'modified', path)).toBe(false)
      await waitPanel(page, `n => { const x = window.__t.panelTabs().find(x => x.name === n); return x && !x.modified && x.tracked && !x.differs }`, name)
      await waitPanel(page, '() => window.__t.badge() === null')
    })

    it('shows an unchanged tracked workflow as unchanged when it is opened (also without a graph id, or with the all-zero one)', async () => {
      for (const name of ['landscape', 'night']) {
        await t(page, 'openSaved', `workflows/${name}.json`)
        await t(page, 'refresh')
        await waitPanel(page, `n => { const x = window.__t.panelTabs().find(x => x.name === n); return x && x.active && x.tracked === true }`, name)
        expect(await panelTab(page, name)).toMatchObject({ tracked: true, differs: false, modified: false })
      }
      await waitPanel(page, '() => window.__t.badge() === null')
    })

    it('Restore changes the restored tab\'s graph and disk copy and leaves it clean; every other tab and its unsaved edits stay as they were', async () => {
      // portrait: v1 committed by the CLI; v2 committed from the panel
      await t(page, 'openSaved', 'workflows/portrait.json')
      await t(page, 'addNode', 'VAELoader', [100, 400])
      await t(page, 'refresh')
      await page.check('[data-testid="select-portrait"]')
      await page.fill('[data-testid="commit-message"]', 'portrait v2')
      page.once('dialog', d => { void d.accept() })
      await page.click('[data-testid="commit"]')
      await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="log-entry"]')].some(e => e.textContent?.includes('portrait v2')), null, { timeout: 30_000 })
      const v1 = git(paths.cec, ['rev-parse', 'HEAD~1']).trim()

      // an unsaved edit in another tab, which Restore must not touch
      await t(page, 'switchTo', 'workflows/landscape.json')
      await t(page, 'addNode', 'KSampler', [100, 500])
      const before = await page.evaluate(() => (window as any).__t.tabs().map((x: any) => ({ ...x, graph: (window as any).__t.graphOf(x.path) })))
      const landscape = before.find((x: any) => x.path === 'workflows/landscape.json')
      expect(landscape.modified).toBe(true)
      expect(nodeTypes(landscape.graph)).toEqual(['CheckpointLoaderSimple', 'EmptyLatentImage', 'KSampler'])

      // restore portrait (not the active tab) to v1 from the panel's history
      await t(page, 'refresh')
      await page.selectOption('[data-testid="restore-target"]', 'portrait')
      await page.locator('[data-testid="log-entry"]', { hasText: 'saved workflows' }).locator('button').click()
      await page.waitForFunction(() => JSON.stringify((window as any).__t.typesOf('workflows/portrait.json')) === '["CheckpointLoaderSimple"]', null, { timeout: 20_000 })
      expect(nodeTypes(JSON.parse(readFileSync(join(paths.userWorkflows, 'portrait.json'), 'utf8')))).toEqual(['CheckpointLoaderSimple'])
      expect(JSON.parse(readFileSync(join(paths.userWorkflows, 'portrait.json'), 'utf8'))).toEqual(JSON.parse(git(paths.cec, ['show', `${v1}:workflows/portrait.json`])))
      expect(await t(page, 'modified', 'workflows/portrait.json')).toBe(false)
      const after = await page.evaluate(() => (window as any).__t.tabs().map((x: any) => ({ ...x, graph: (window as any).__t.graphOf(x.path) })))
      expect(after.map((x: any) => x.path)).toEqual(before.map((x: any) => x.path))
      for (const b of before.filter((x: any) => x.path !== 'workflows/portrait.json')) {
        const a = after.find((x: any) => x.path === b.path)
        expect(a.modified, b.path).toBe(b.modified)
        expect(a.active, b.path).toBe(b.active)
        expect(nodeTypes(a.graph), b.path).toEqual(nodeTypes(b.graph))
        expect(a.graph.nodes, b.path).toEqual(b.graph.nodes)
      }
      expect(await t(page, 'allWorkflowsDefined')).toBe(true)

      // the restored tab shows v1 when the user goes to it, and restoring the active tab works the same
      await t(page, 'switchTo', 'workflows/portrait.json')
      expect(await t(page, 'typesOf', 'workflows/portrait.json')).toEqual(['CheckpointLoaderSimple'])
      await t(page, 'refresh')
      await page.selectOption('[data-testid="restore-target"]', 'portrait')
      await page.locator('[data-testid="log-entry"]', { hasText: 'portrait v2' }).locator('button').click()
      await page.waitForFunction(() => JSON.stringify((window as any).__t.typesOf('workflows/portrait.json')) === '["CheckpointLoaderSimple","VAELoader"]', null, { timeout: 20_000 })
      expect(await t(page, 'modified', 'workflows/portrait.json')).toBe(false)
      expect(nodeTypes(JSON.parse(readFileSync(join(paths.userWorkflows, 'portrait.json'), 'utf8')))).toEqual(['CheckpointLoaderSimple', 'VAELoader'])
      expect(await t(page, 'typesOf', 'workflows/landscape.json')).toEqual(['CheckpointLoaderSimple', 'EmptyLatentImage', 'KSampler'])
      expect(await t(page, 'modified', 'workflows/landscape.json')).toBe(true)
    })

    it('switching tabs while the panel refreshes never writes one tab\'s graph into another', async () => {
      const a = 'workflows/landscape.json'
      const b = 'workflows/portrait.json'
      await t(page, 'switchTo', a)
      const typesA = await t<string[]>(page, 'typesOf', a)
      const typesB = await t<string[]>(page, 'typesOf', b)
      expect(typesA).not.toEqual(typesB)
      for (let i = 0; i < 3; i++) {
        await page.evaluate(async ([x, y]) => {
          const T = (window as any).__t
          const run = T.refresh()
          await T.switchTo(T.activePath() === x ? y : x)
          await run
          await T.refresh()
        }, [a, b])
        expect(await t(page, 'typesOf', a)).toEqual(typesA)
        expect(await t(page, 'typesOf', b)).toEqual(typesB)
      }
    })

    it('puts "Export environment" in the File menu (Workflow below 1.27) and among the commands; it and its keybinding download a .tar.gz', async () => {
      const menu = compareVersions(pin.version, '1.27.0') >= 0 ? 'File' : 'Workflow'
      const commands = await page.evaluate(() => (window as any).__t.app().extensionManager.command.commands.map((c: any) => [c.id, c.label]))
      expect(commands).toContainEqual(['Comfydock.ExportEnvironment', 'Export environment'])
      const groups = await page.evaluate(() => {
        const ext = (window as any).__t.app().extensions?.find?.((e: any) => e.name === 'comfydock.environment')
        return ext?.menuCommands ?? null
      })
      if (groups) expect(groups).toEqual([{ path: [menu], commands: ['Comfydock.ExportEnvironment'] }])
      await openFileMenu(page, menu)
      const item = page.getByText('Export environment', { exact: true }).first()
      await item.waitFor({ timeout: 10_000 })
      let download = page.waitForEvent('download', { timeout: 60_000 })
      // the committed workflows name models this machine lacks: export asks before going on
      page.once('dialog', d => { void d.accept() })
      await item.click()
      await confirmIfAsked(page, 10_000)
      expect((await download).suggestedFilename()).toMatch(new RegExp(`^${env}_export_.*\\.tar\\.gz$`))
      await page.keyboard.press('Escape')
      await page.mouse.click(700, 500)
      download = page.waitForEvent('download', { timeout: 60_000 })
      page.once('dialog', d => { void d.accept() })
      await page.keyboard.press('Control+Alt+KeyE')
      await confirmIfAsked(page, 10_000)
      const file = await download
      expect(file.suggestedFilename()).toMatch(/\.tar\.gz$/)
      expect(readFileSync(await file.path()).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]))
      await page.keyboard.press('Escape')
    })

    it.runIf(pin.version !== '1.4.13' && compareVersions(pin.version, '1.24.0') >= 0)('commits and restores a tab that holds a subgraph', async () => {
      if (!(await t(page, 'hasSubgraphs'))) throw new Error(`frontend ${pin.version} has no convertToSubgraph`)
      await t(page, 'newTab')
      const path = await t<string>(page, 'activePath')
      const name = path.slice(10, -5)
      const ids = [await t<number>(page, 'addNode', 'CheckpointLoaderSimple', [100, 100]), await t<number>(page, 'addNode', 'VAELoader', [100, 300])]
      await t(page, 'toSubgraph', ids)
      const withSub = await t<any>(page, 'graphOf', path)
      expect(withSub.definitions?.subgraphs?.length).toBe(1)
      await t(page, 'refresh')
      await page.check(`[data-testid="select-${name}"]`)
      await page.fill('[data-testid="commit-message"]', `subgraph ${pin.version}`)
      page.once('dialog', d => { void d.accept() })
      await page.click('[data-testid="commit"]')
      await page.waitForFunction(m => [...document.querySelectorAll('[data-testid="log-entry"]')].some(e => e.textContent?.includes(m)), `subgraph ${pin.version}`, { timeout: 30_000 })
      const committed = JSON.parse(git(paths.cec, ['show', `HEAD:workflows/${name}.json`]))
      expect(committed.definitions.subgraphs[0].nodes.map((n: any) => n.type).sort()).toEqual(['CheckpointLoaderSimple', 'VAELoader'])
      // an edit, then Restore brings the committed subgraph back
      await t(page, 'clear')
      await t(page, 'refresh')
      await page.selectOption('[data-testid="restore-target"]', name)
      // the tab has unsaved edits: the panel asks before discarding them
      page.once('dialog', d => { void d.accept() })
      await page.locator('[data-testid="log-entry"]', { hasText: `subgraph ${pin.version}` }).locator('button').click()
      await confirmIfAsked(page)
      await page.waitForFunction(p => ((window as any).__t.graphOf(p)?.definitions?.subgraphs?.length ?? 0) === 1, path, { timeout: 20_000 })
      expect(await t(page, 'modified', path)).toBe(false)
    })

    it('raised no console error or page error from the extension', () => {
      expect(cp.extensionErrors()).toEqual([])
    })

    it.runIf(hasVueNodes)('with Vue node rendering on, commits and restores a tab the same way', async () => {
      await cp.close()
      await comfy.stop()
      writeUserSettings(paths.comfyui, { 'Comfy.VueNodes.Enabled': true })
      comfy = await startComfyUI(setup, env, { frontendRoot: setup.frontendRoots[pin.version] })
      cp = await openComfyUI(browser, comfy.url)
      page = cp.page
      await openPanel(page)
      await page.waitForFunction(() => document.querySelector('[data-testid="connection"]')?.textContent?.includes('connected'), null, { timeout: 30_000 })
      await t(page, 'openSaved', 'workflows/landscape.json')
      const fresh = await t<string>(page, 'newTab')
      await t(page, 'addNode', 'VAELoader', [100, 100])
      await t(page, 'switchTo', 'workflows/landscape.json')
      await t(page, 'addNode', 'KSampler', [400, 400])
      await t(page, 'refresh')
      await page.check('[data-testid="select-landscape"]')
      await page.fill('[data-testid="commit-message"]', `vue nodes ${pin.version}`)
      page.once('dialog', d => { void d.accept() })
      await page.click('[data-testid="commit"]')
      await page.waitForFunction(m => [...document.querySelectorAll('[data-testid="log-entry"]')].some(e => e.textContent?.includes(m)), `vue nodes ${pin.version}`, { timeout: 30_000 })
      expect(nodeTypes(JSON.parse(git(paths.cec, ['show', 'HEAD:workflows/landscape.json'])))).toEqual(['CheckpointLoaderSimple', 'EmptyLatentImage', 'KSampler'])
      await t(page, 'refresh')
      await page.selectOption('[data-testid="restore-target"]', 'landscape')
      await page.locator('[data-testid="log-entry"]', { hasText: 'saved workflows' }).locator('button').click()
      await page.waitForFunction(() => JSON.stringify((window as any).__t.typesOf('workflows/landscape.json')) === '["CheckpointLoaderSimple","EmptyLatentImage"]', null, { timeout: 20_000 })
      expect(await t(page, 'modified', 'workflows/landscape.json')).toBe(false)
      expect(await t(page, 'modified', fresh)).toBe(true)
      expect(await t(page, 'typesOf', fresh)).toEqual(['VAELoader'])
      expect(cp.extensionErrors()).toEqual([])
    })
  })
}

/** Opens the core menu that holds Open/Save/Export, as a user would: from the Comfy logo button (newer frontends) or the top menubar. */
async function openFileMenu (page: Page, menu: 'File' | 'Workflow'): Promise<void> {
  // the logo button above the tabs (1.2x to 1.4x), or the "Menu" button atop the sidebar (newer)
  const logo = page.locator('.comfy-menu-button-wrapper, .side-bar-button[aria-label="Menu"], button[aria-label="Menu"]').first()
  if (await logo.isVisible().catch(() => false)) await logo.click()
  const root = page.getByText(menu, { exact: true }).first()
  await root.waitFor({ timeout: 10_000 })
  await root.hover()
  if (!(await page.getByText('Export environment', { exact: true }).first().isVisible().catch(() => false))) await root.click()
}
