/**
 * @module The "Environment" sidebar panel. Each section is rebuilt from the controller's state on
 * every change but only swapped into the page when it differs, so a click never lands on a button
 * that is being replaced. The commit box is built once: typing is never interrupted.
 */
import type { Controller } from '../controller'
import { h, icon } from '../dom'
import { renderAttention } from './attention'
import { renderHeader } from './header'
import { renderHistory, type RestorePick } from './history'
import { JobsView } from './jobs'
import { renderPull } from './pull'
import { renderTabs } from './tabs'

export class Panel {
  private readonly c: Controller
  private root: HTMLElement | null = null
  private unsubscribe: (() => void) | null = null
  private readonly message: HTMLTextAreaElement
  private readonly commitButton: HTMLButtonElement
  private readonly commitSection: HTMLElement
  private readonly restorePick: RestorePick = { name: '' }
  private readonly jobs = new JobsView()
  /** Header, pull, tabs, attention, history: what is on the page now. */
  private shown: HTMLElement[] = []

  constructor (c: Controller) {
    this.c = c
    this.message = h('textarea', { rows: '2', placeholder: 'What changed?', 'data-testid': 'commit-message' }) as HTMLTextAreaElement
    this.commitButton = h('button', {
      'data-testid': 'commit',
      onclick: () => { void c.commit(this.message.value).then(ok => { if (ok) this.message.value = '' }) },
    }, icon('pi-check'), 'Commit selected') as HTMLButtonElement
    this.commitSection = h('div', { class: 'cfd-section', 'data-testid': 'commit-box' },
      h('h3', {}, 'Commit'),
      h('div', { class: 'cfd-muted' }, 'Commits the selected tabs as they are in the browser, and saves them to ComfyUI.'),
      this.message,
      h('div', { class: 'cfd-head' },
        this.commitButton,
        h('button', { title: 'refresh', onclick: () => { void c.refresh() } }, icon('pi-refresh'))))
  }

  mount (el: HTMLElement): void {
    this.unmount()
    this.root = h('div', { class: 'cfd-panel', 'data-testid': 'comfydock-panel' })
    this.shown = []
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

  private render (): void {
    if (!this.root) return
    this.commitButton.disabled = !this.c.has('workflows.commit') || Boolean(this.c.state.busy)
    this.jobs.update(this.c)
    const next = [renderHeader(this.c), renderPull(this.c), renderTabs(this.c), renderAttention(this.c), renderHistory(this.c, this.restorePick)]
    if (this.shown.length !== next.length) {
      this.shown = next
      this.root.replaceChildren(next[0], this.jobs.el, next[1], next[2], next[3], this.commitSection, next[4])
      return
    }
    next.forEach((section, i) => {
      // event handlers are not in the markup; equal markup means equal state for these sections
      if (section.outerHTML === this.shown[i].outerHTML) return
      this.shown[i].replaceWith(section)
      this.shown[i] = section
    })
  }
}
