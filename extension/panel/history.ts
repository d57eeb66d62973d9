/** @module History of the environment, with restore of one workflow into its tab. */
import type { Controller } from '../controller'
import { h, icon } from '../dom'

/** The workflow Restore acts on; `chosen` once the user picked it in the list. */
export interface RestorePick { name: string, chosen?: boolean }

export function renderHistory (c: Controller, pick: RestorePick): HTMLElement {
  const s = c.state
  const out = h('div', { class: 'cfd-section', 'data-testid': 'history' }, h('h3', {}, 'History'))
  if (!s.log.length) {
    out.append(h('div', { class: 'cfd-muted' }, 'No commits yet.'))
    return out
  }
  const names = [...new Set(s.tabs.filter(t => t.analysis?.tracked !== false).map(t => t.tab.name))]
  const canRestore = c.has('workflows.restore') && names.length > 0
  if (canRestore) {
    // the active tab's workflow, unless the user chose another that is still open
    if (!pick.chosen || !names.includes(pick.name)) {
      pick.chosen = false
      const active = s.tabs.find(t => t.tab.active && names.includes(t.tab.name))?.tab.name
      if (active) pick.name = active
      else if (!names.includes(pick.name)) pick.name = names[0]
    }
    const select = h('select', { 'data-testid': 'restore-target', onchange: (e: Event) => { pick.name = (e.target as HTMLSelectElement).value; pick.chosen = true; c.emit() } },
      ...names.map(n => h('option', { value: n, selected: n === pick.name }, n)))
    out.append(h('label', { class: 'cfd-muted' }, 'Restore workflow:'), select)
    // an older sidecar does not say what each commit holds: every commit is offered, as before
    if (s.log.every(e => e.workflows && !e.workflows.includes(pick.name))) out.append(h('div', { class: 'cfd-muted', 'data-testid': 'restore-none' }, `No commit holds "${pick.name}" yet: commit it first.`))
  }
  for (const entry of s.log) {
    // the subject has a line of its own: beside the id and the button it was cut to nothing at the default sidebar width
    out.append(h('div', { class: 'cfd-log', 'data-testid': 'log-entry' },
      h('div', { class: 'cfd-log-subject', 'data-testid': 'log-subject', title: entry.subject }, entry.subject),
      h('div', { class: 'cfd-log-meta' },
        h('code', {}, entry.short), h('span', { class: 'cfd-date', title: entry.date }, shortDate(entry.date)),
        canRestore && (!entry.workflows || entry.workflows.includes(pick.name)) ? h('button', { 'data-testid': 'restore', title: 'load this version into its tab and save it', disabled: Boolean(s.busy), onclick: () => { void c.restore(pick.name, entry.commit) } }, icon('pi-history'), 'Restore') : null)))
  }
  return out
}

/** `2026-12-05 07:14` from git's ISO date (the full date is the tooltip). */
function shortDate (iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso)
  return m ? `${m[1]} ${m[2]}` : iso
}
