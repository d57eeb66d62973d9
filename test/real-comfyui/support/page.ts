/**
 * Chromium on a real ComfyUI page, and the few things a test does the way the user would but through
 * ComfyUI's own objects (adding a node, switching tabs by command, opening a saved workflow as the
 * Workflows sidebar does). All ComfyUI access of the tests is here.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { REPO } from './prepare'

export interface ComfyPage {
  page: Page
  context: BrowserContext
  /** Console errors and page errors, with the script they came from. */
  errors: string[]
  /** Those raised by our extension's code. */
  extensionErrors (): string[]
  /** Uncaught exceptions in the page after it loaded, whoever raised them. */
  pageErrors (): string[]
  close (): Promise<void>
}

/** Installed before ComfyUI's scripts run: helpers on `window.__t`. */
export function helpers (): void {
  const w = window as any
  const app = (): any => w.comfyAPI?.app?.app ?? w.app
  const store = (): any => app()?.extensionManager?.workflow
  const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms))
  const activePath = (): string | null => store()?.activeWorkflow?.path ?? null
  const byPath = (path: string): any => store().openWorkflows.find((x: any) => x?.path === path) ?? store().getWorkflowByPath(path)
  const capture = (): void => {
    const t = store().activeWorkflow?.changeTracker
    if (!t) return
    if (typeof t.captureCanvasState === 'function') t.captureCanvasState()
    else t.checkState()
  }
  const graphOf = (path: string): any => {
    if (activePath() === path) return app().graph.serialize()
    const x = byPath(path)
    return x?.activeState ?? x?.changeTracker?.activeState ?? null
  }
  const types = (g: any): string[] => (g?.nodes ?? []).map((n: any) => n.type).sort()
  w.__t = {
    app,
    store,
    activePath,
    ready: () => Boolean(w.__comfydock && app()?.graph && activePath()),
    version: () => w.__COMFYUI_FRONTEND_VERSION__ ?? null,
    tabs: () => store().openWorkflows.filter(Boolean).map((x: any) => ({ path: x.path, modified: Boolean(x.isModified), active: x.path === activePath() })),
    allWorkflowsDefined: () => store().workflows.every((x: any) => x && typeof x.path === 'string') && store().openWorkflows.every((x: any) => x && typeof x.path === 'string'),
    graphOf,
    typesOf: (path: string) => types(graphOf(path)),
    modified: (path: string) => Boolean(byPath(path)?.isModified),
    async newTab () {
      const before = activePath()
      app().extensionManager.command.execute('Comfy.NewBlankWorkflow')
      for (let i = 0; i < 100 && activePath() === before; i++) await sleep(50)
      await sleep(100)
      return activePath()
    },
    /** As a user's edit: a node on the canvas, seen by the change tracker (a mouseup would do the same). */
    addNode (type: string, pos: [number, number] = [100, 100]) {
      const LiteGraph = w.LiteGraph ?? w.comfyAPI?.litegraph?.LiteGraph
      const node = LiteGraph.createNode(type)
      node.pos = pos
      ;(app().canvas?.graph ?? app().graph).add(node)
      capture()
      return node.id
    },
    clear () {
      app().graph.clear()
      capture()
    },
    async switchTo (path: string) {
      for (let i = 0; i < 12 && activePath() !== path; i++) {
        app().extensionManager.command.execute('Workspace.NextOpenedWorkflow')
        for (let j = 0; j < 40; j++) { await sleep(50); if (activePath() !== null) break }
        await sleep(150)
      }
      if (activePath() !== path) throw new Error(`could not switch to ${path} (active: ${activePath()})`)
    },
    /** What the frontend's own openWorkflow does when the user clicks a saved workflow in the sidebar. */
    async openSaved (path: string) {
      const s = store()
      if (typeof s.syncWorkflows === 'function' && !s.getWorkflowByPath(path)) await s.syncWorkflows()
      const x = s.getWorkflowByPath(path)
      if (!x) throw new Error(`no saved workflow ${path}`)
      const loaded = x.isLoaded ? x : (await x.load(), x)
      await app().loadGraphData(JSON.parse(JSON.stringify(loaded.activeState ?? loaded.changeTracker.activeState)), true, true, x, { checkForRerouteMigration: false, deferWarnings: true })
      for (let i = 0; i < 40 && activePath() !== path; i++) await sleep(50)
      await sleep(200)
    },
    /** Selects the given nodes (by id) of the active graph and converts them to a subgraph. */
    toSubgraph (ids: number[]) {
      const g = app().rootGraph ?? app().graph
      const items = new Set(ids.map(id => g.getNodeById(id)))
      g.convertToSubgraph(items)
      capture()
    },
    /** Resolves after `n` animation frames: the canvas has drawn what it holds (nodes are sized on first draw). */
    frames: (n = 3) => new Promise<void>(resolve => {
      let left = n
      const next = (): void => { if (--left <= 0) resolve(); else requestAnimationFrame(next) }
      requestAnimationFrame(next)
    }),
    hasSubgraphs: () => typeof (app().rootGraph ?? app().graph)?.convertToSubgraph === 'function',
    panelTabs: () => (w.__comfydock.controller.state.tabs as any[]).map(t => ({ name: t.tab.name, active: t.tab.active, modified: t.tab.modified, tracked: t.analysis?.tracked, differs: t.analysis?.differsFromCommit })),
    /**
     * From now on the panel's calls of `method` to the sidecar get their answers only once
     * `__held.release()` is called (a slow sidecar, on cue); `__held.reached` resolves when one is sent.
     * Until then every call the panel makes is kept in `__held.calls` ([method, params]).
     */
    holdCall (method: string) {
      const conn = w.__comfydock.controller.conn
      const call = conn.call
      let open!: () => void
      let sent!: () => void
      const gate = new Promise<void>(r => { open = r })
      const calls: Array<[string, unknown]> = []
      w.__held = { calls, reached: new Promise<void>(r => { sent = r }), release: () => { open() }, end: () => { delete conn.call; open() } }
      conn.call = function (m: string, ...rest: unknown[]) {
        calls.push([m, JSON.parse(JSON.stringify(rest[0] ?? null))])
        const answer = call.call(this, m, ...rest)
        if (m !== method) return answer
        sent()
        return answer.then(async (v: unknown) => { await gate; return v }, async (e: unknown) => { await gate; throw e })
      }
    },
    badge: () => w.__comfydock.controller.badge(),
    refresh: () => w.__comfydock.controller.refresh(),
  }
}

export async function openComfyUI (browser: Browser, url: string): Promise<ComfyPage> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, acceptDownloads: true })
  const page = await context.newPage()
  const errors: string[] = []
  page.on('pageerror', e => errors.push(`pageerror: ${e.message}\n${e.stack ?? ''}`))
  page.on('console', m => {
    if (m.type() === 'error') errors.push(`console: ${m.text()} @ ${m.location().url}`)
  })
  await page.addInitScript(helpers)
  await page.goto(url)
  await page.waitForFunction(() => (window as any).__t?.ready(), null, { timeout: 90_000 })
  await dismissDialogs(page)
  // some frontends throw while loading, before any extension runs (1.27.10: a core setting's onChange)
  const loaded = errors.length
  return {
    page,
    context,
    errors,
    extensionErrors: () => errors.filter(e => /comfydock/i.test(e)),
    pageErrors: () => errors.slice(loaded).filter(e => e.startsWith('pageerror:')),
    close: () => context.close(),
  }
}

/** First-run dialogs of new frontends: closed the way a user would. */
export async function dismissDialogs (page: Page): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const close = page.locator('.p-dialog .p-dialog-close-button, .p-dialog-header-close').first()
    if (!(await close.isVisible().catch(() => false))) break
    await close.click().catch(() => {})
    await page.waitForTimeout(200)
  }
}

export function t<T> (page: Page, fn: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(({ fn, args }) => (window as any).__t[fn](...args), { fn, args }) as Promise<T>
}

/**
 * On a failed test, a screenshot of the page in test/.tmp/real-comfyui-failures/ for whoever reads the
 * CI log. Call in a beforeEach: `beforeEach(ctx => screenshotOnFailure(ctx, 'name-prefix', () => page))`.
 */
export function screenshotOnFailure (ctx: { task: { name: string }, onTestFailed: (fn: () => Promise<void>) => void }, prefix: string, page: () => Page | undefined): void {
  ctx.onTestFailed(async () => {
    const dir = join(REPO, 'test', '.tmp', 'real-comfyui-failures')
    const file = join(dir, `${prefix}-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}.png`)
    mkdirSync(dir, { recursive: true })
    await page()?.screenshot({ path: file }).then(() => process.stderr.write(`[real-comfyui] screenshot: ${file}\n`), () => {})
  })
}
