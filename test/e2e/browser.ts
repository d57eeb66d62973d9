/** Debian's Chromium through playwright-core (never a downloaded browser). */
import { chromium, type Browser, type Page } from 'playwright-core'

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium'

export function launchChromium (): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  })
}

/** Opens `nodes` (saved-graph node objects) in a new harness tab named `name`, as opening a workflow file does. */
export async function openGraphInTab (page: Page, name: string, nodes: unknown[]): Promise<void> {
  await page.evaluate(async ({ name, nodes }) => {
    const h = (window as any).__harness
    const wf = h.graph.serialize()
    wf.nodes = nodes
    wf.links = []
    await h.app.loadGraphData(wf, true, true, name)
  }, { name, nodes })
}

/** A saved-graph node of `type` at the origin, with the given properties and widget values. */
export function graphNode (type: string, properties: Record<string, unknown> = {}, widgets: unknown[] = []): Record<string, unknown> {
  return { id: 1, type, pos: [0, 0], size: [300, 100], flags: {}, order: 0, mode: 0, inputs: [], outputs: [], properties, widgets_values: widgets }
}
