/** @module Every open workflow tab: tracked or not, unsaved edits, differs from last commit, what is missing. */
import type { Controller, TabView } from '../controller'
import { h, icon } from '../dom'
import { modelLine, nodeLine } from './attention'

function tags (t: TabView): HTMLElement[] {
  const out: HTMLElement[] = []
  const a = t.analysis
  if (a) out.push(h('span', { class: `cfd-tag ${a.tracked ? 'ok' : ''}` }, a.tracked ? 'tracked' : 'untracked'))
  if (t.tab.modified) out.push(h('span', { class: 'cfd-tag warn', title: 'edits not saved to ComfyUI' }, 'unsaved'))
  if (a?.tracked && a.differsFromCommit) out.push(h('span', { class: 'cfd-tag warn', title: 'differs from the last commit' }, 'changed'))
  if (a?.error) out.push(h('span', { class: 'cfd-tag warn', title: a.error.message }, 'unreadable'))
  return out
}

export function renderTabs (c: Controller): HTMLElement {
  const s = c.state
  const list = h('div', { class: 'cfd-section', 'data-testid': 'tabs' }, h('h3', {}, 'Open workflows'))
  if (!s.tabs.length) list.append(h('div', { class: 'cfd-muted' }, 'No workflow tabs open.'))
  for (const t of s.tabs) {
    const box = h('input', {
      type: 'checkbox',
      'data-testid': `select-${t.tab.name}`,
      title: 'include in the next commit',
      // as an attribute, so a changed selection shows in the markup the panel compares
      checked: s.selected.has(t.tab.name),
      onchange: (e: Event) => {
        if ((e.target as HTMLInputElement).checked) s.selected.add(t.tab.name)
        else s.selected.delete(t.tab.name)
      },
    }) as HTMLInputElement
    const row = h('div', { class: 'cfd-tab', 'data-testid': `tab-${t.tab.name}`, 'data-active': String(t.tab.active) },
      h('label', { class: 'cfd-tab-row' }, box, icon(t.tab.active ? 'pi-file-edit' : 'pi-file'),
        h('span', { class: 'cfd-tab-name', title: t.tab.path }, t.tab.name)),
      h('div', { class: 'cfd-tags' }, ...tags(t)))
    for (const m of t.analysis?.missingModels ?? []) row.append(modelLine(c, m))
    for (const n of t.analysis?.missingNodes ?? []) row.append(nodeLine(c, n))
    list.append(row)
  }
  return list
}
