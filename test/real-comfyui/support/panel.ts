/**
 * The comfydock panel as a user works it: tick tabs and commit, pick a workflow and Restore a commit,
 * export from the menu or by keys. Every question the page asks on the way (the browser's confirm() before
 * frontend 1.6.13, the frontend's own dialog after) is answered yes and returned, so a test can say
 * whether a question was due.
 */
import type { Dialog, Download, Page } from 'playwright-core'

const DIALOG = '.p-dialog, [role="dialog"]'
const YES = /^\s*(Confirm|OK|Yes)\s*$/

/** Runs `act`, answering yes to every question meanwhile; returns what was asked. */
export async function answering (page: Page, act: () => Promise<unknown>): Promise<string[]> {
  const asked: string[] = []
  const onDialog = (d: Dialog): void => {
    asked.push(d.message())
    void d.accept()
  }
  page.on('dialog', onDialog)
  const yes = page.locator(`${DIALOG} button`, { hasText: YES }).first()
  let done = false
  const answer = (async () => {
    while (!done) {
      if (await yes.isVisible().catch(() => false)) {
        asked.push(await page.locator(DIALOG).first().innerText().catch(() => '(a dialog)'))
        await yes.click().catch(() => {})
        await yes.waitFor({ state: 'hidden', timeout: 5000 }).catch(() => {})
      }
      await new Promise(r => setTimeout(r, 50))
    }
  })()
  try {
    await act()
  } finally {
    done = true
    await answer
    page.off('dialog', onDialog)
  }
  return asked
}

export async function openPanel (page: Page): Promise<void> {
  if (await page.locator('[data-testid="comfydock-panel"]').isVisible().catch(() => false)) return
  // `<id>-tab-button` up to the 1.4x line; newer frontends name the button by its tooltip only
  await page.click('.comfydock-tab-button, .side-bar-button[aria-label*="comfydock" i]')
  await page.waitForSelector('[data-testid="comfydock-panel"]')
}

export async function waitConnected (page: Page, timeout = 30_000): Promise<void> {
  await page.waitForFunction(() => document.querySelector('[data-testid="connection"]')?.textContent?.includes('connected'), null, { timeout })
}

async function waitLogEntry (page: Page, subject: string): Promise<void> {
  await page.waitForFunction(m => [...document.querySelectorAll('[data-testid="log-entry"]')].some(e => e.textContent?.includes(m)), subject, { timeout: 30_000 })
}

/** Ticks the tabs, types the message, clicks "Commit selected", and waits for the commit in History. */
export async function commitTabs (page: Page, names: string[], message: string): Promise<string[]> {
  return answering(page, async () => {
    for (const name of names) await page.check(`[data-testid="select-${name}"]`)
    await page.fill('[data-testid="commit-message"]', message)
    await page.click('[data-testid="commit"]')
    await waitLogEntry(page, message)
  })
}

/**
 * Picks `name` as the workflow to restore and clicks Restore on the commit with that subject; `done`
 * says when the restore has landed (the graph a test waits for).
 */
export async function restoreFromHistory (page: Page, name: string, subject: string, done: () => Promise<unknown>): Promise<string[]> {
  return answering(page, async () => {
    await page.selectOption('[data-testid="restore-target"]', name)
    await page.locator('[data-testid="log-entry"]').filter({ has: page.getByText(subject, { exact: true }) }).locator('button', { hasText: 'Restore' }).click()
    await done()
    // the restore is over when the panel no longer shows it running
    await page.waitForFunction(() => !(window as any).__comfydock.controller.state.busy, null, { timeout: 20_000 })
  })
}

/** Runs `act` (a menu click, a key press) and returns the download it starts, answering questions meanwhile. */
export async function downloadOf (page: Page, act: () => Promise<void>): Promise<{ download: Download, asked: string[] }> {
  let download: Download | undefined
  const asked = await answering(page, async () => {
    const next = page.waitForEvent('download', { timeout: 60_000 })
    await act()
    download = await next
  })
  return { download: download!, asked }
}

/**
 * Opens the core menu that holds Open/Save/Export, as a user would: the top menubar (1.4.x), the logo
 * menu above the tabs (1.2x to 1.4x) or the "Menu" button atop the sidebar (newer); then that submenu.
 */
export async function openFileMenu (page: Page, menu: 'File' | 'Workflow'): Promise<void> {
  const logo = page.locator('.comfy-menu-button-wrapper, .comfyui-logo-wrapper, button[aria-label="Menu"]').first()
  if (await logo.isVisible().catch(() => false)) await logo.click()
  const root = page.getByText(menu, { exact: true }).first()
  await root.waitFor({ timeout: 10_000 })
  await root.hover()
  // the submenu opens on hover in some releases, on click in others
  const save = page.getByText('Save', { exact: true }).filter({ visible: true }).first()
  if (!(await save.waitFor({ timeout: 1500 }).then(() => true, () => false))) await root.click()
}
