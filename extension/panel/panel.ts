/**
 * @module The "Environment" sidebar panel. Re-rendered from the controller's state on every change;
 * the commit message box is kept across renders so typing is never interrupted.
 */
import type { Controller } from '../controller'
import { h, icon } from '../dom'
import { renderHeader } from './header'
import { renderHistory } from './history'
import { renderTabs } from './tabs'

export class Panel {
  private readonly c: Controller
  private root: HTMLElement | null = null
  private unsubscribe: (() => void) | null = null
  private readonly message: HTMLTextAreaElement
  private readonly restorePick = { name: '' }

  constructor (c: Controller) {
    this.c = c
    this.message = h('textarea', { rows: '2', placeholder: 'What changed?', 'data-testid': 'commit-message' }) as HTMLTextAreaElement
  }

  mount (el: HTMLElement): void {
    this.unmount()
    this.root = h('div', { class: 'cfd-panel', 'data-testid': 'comfydock-panel' })
    el.replaceChildren(this.root)
    this.unsubscribe = this.c.subscribe(() => this.render())
    this.render()
    this.c.requestFullStatus()
    void this.c.refresh()
  }

  unmount (): void {
    this.unsubscribe?.()
    this.unsubscribe = null
    this.root = null
  }

  private commitBox (): HTMLElement {
    const c = this.c
    const enabled = c.has('workflows.commit') && !c.state.busy
    return h('div', { class: 'cfd-section', 'data-testid': 'commit-box' },
      h('h3', {}, 'Commit'),
      h('div', { class: 'cfd-muted' }, 'Commits the selected tabs as they are in the browser, and saves them to ComfyUI.'),
      this.message,
      h('div', { class: 'cfd-head' },
        h('button', {
          'data-testid': 'commit',
          disabled: !enabled,
          onclick: () => { void c.commit(this.message.value).then(ok => { if (ok) this.message.value = '' }) },
        }, icon('pi-check'), 'Commit selected'),
        h('button', { title: 'refresh', onclick: () => { void c.refresh() } }, icon('pi-refresh'))))
  }

  private render (): void {
    if (!this.root) return
    this.root.replaceChildren(renderHeader(this.c), renderTabs(this.c), this.commitBox(), renderHistory(this.c, this.restorePick))
  }
}
