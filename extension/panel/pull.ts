/**
 * @module Pull from the environment's remote: a preview of what changes (packs, Python packages,
 * models, workflows) and what conflicts, both sides and a choice each, then Apply. Shown only when the
 * environment has a remote.
 */
import type { PullChange, PullConflict } from '../../sidecar/protocol'
import type { Controller, PullChoice, PullView } from '../controller'
import { h, icon } from '../dom'

const CHOICE_LABEL: Record<PullChoice, string> = { mine: 'keep mine', theirs: 'take theirs', both: 'keep both (two names)' }

function change (c: PullChange): string {
  return c.from && c.to ? `${c.name} ${c.from} → ${c.to}` : c.to ? `${c.name} ${c.to}` : c.name
}

/** One line per kind of change, `+` added, `-` removed, `~` changed. */
function changeLines (view: PullView): string[] {
  const ch = view.preview.changes
  if (!ch) return []
  const out: string[] = []
  const add = (what: string, sign: string, items: string[]): void => { if (items.length) out.push(`${sign} ${what}: ${items.join(', ')}`) }
  add('packs', '+', ch.packs.added.map(change))
  add('packs', '-', ch.packs.removed.map(change))
  add('packs', '~', ch.packs.changed.map(change))
  add('Python packages', '+', ch.python.added)
  add('Python packages', '-', ch.python.removed)
  add('models', '+', ch.models.added.map(change))
  add('models', '-', ch.models.removed.map(change))
  add('workflows', '+', ch.workflows.added)
  add('workflows', '-', ch.workflows.removed)
  add('workflows', '~', ch.workflows.changed)
  if (ch.comfyui) out.push(`~ ComfyUI: ${change(ch.comfyui)}`)
  if (ch.python_version) out.push(`~ Python: ${change(ch.python_version)}`)
  return out
}

function conflictRow (c: Controller, view: PullView, conflict: PullConflict): HTMLElement {
  const chosen = view.choices[conflict.id]
  const select = h('select', {
    'data-testid': `pull-choice-${conflict.id}`,
    onchange: (e: Event) => { c.choosePull(conflict.id, (e.target as HTMLSelectElement).value as PullChoice) },
  },
  h('option', { value: '', selected: !chosen, disabled: true }, 'choose…'),
  ...conflict.choices.map(k => h('option', { value: k, selected: chosen === k }, CHOICE_LABEL[k])))
  return h('div', { class: 'cfd-tab', 'data-testid': 'pull-conflict' },
    h('div', {}, icon('pi-exclamation-triangle'), ` ${conflict.label}`),
    h('div', { class: 'cfd-muted', 'data-testid': 'pull-mine' }, `mine: ${conflict.mine.summary}`),
    h('div', { class: 'cfd-muted', 'data-testid': 'pull-theirs' }, `theirs: ${conflict.theirs.summary}`),
    select)
}

export function renderPull (c: Controller): HTMLElement {
  const s = c.state
  const remote = c.pullRemote()
  const out = h('div', { class: 'cfd-section', 'data-testid': 'pull-section' })
  if (!remote || !c.has('env.pullPreview') || !c.has('env.pull')) {
    out.hidden = true
    return out
  }
  const view = s.pull
  out.append(h('div', { class: 'cfd-head' },
    h('h3', { class: 'cfd-grow' }, `Team · ${remote}`),
    h('button', { 'data-testid': 'pull', title: `see what ${remote} has changed; nothing changes until Apply`, disabled: Boolean(s.busy), onclick: () => { void c.previewPull() } }, icon('pi-download'), view ? 'Check again' : 'Pull')))
  if (!view) return out
  const p = view.preview
  const box = h('div', { class: 'cfd-section', 'data-testid': 'pull-preview' })
  out.append(box)
  if (p.kind === 'up-to-date') {
    box.append(h('div', { class: 'cfd-muted', 'data-testid': 'pull-summary' }, `Up to date with ${p.remote}/${p.branch}.`),
      h('div', { class: 'cfd-head' }, h('button', { 'data-testid': 'pull-close', onclick: () => c.closePull() }, 'Close')))
    return out
  }
  const lines = changeLines(view)
  box.append(h('div', { class: 'cfd-muted', 'data-testid': 'pull-summary' },
    `${p.kind === 'fast-forward' ? 'Their commits come on top of yours' : 'Both sides have commits: they are merged'} (${p.remote}/${p.branch}).`))
  for (const line of lines) box.append(h('div', { 'data-testid': 'pull-change' }, line))
  if (!lines.length && !p.conflicts.length) box.append(h('div', { class: 'cfd-muted' }, 'No change to packs, Python packages, models or workflows.'))
  for (const note of p.notes) box.append(h('div', { class: 'cfd-muted' }, note))
  for (const conflict of p.conflicts) box.append(conflictRow(c, view, conflict))
  const open = p.conflicts.filter(k => !view.choices[k.id]).length
  if (open) box.append(h('div', { class: 'cfd-muted', 'data-testid': 'pull-open' }, `Choose a side for ${open} conflict(s) to apply.`))
  // uncommitted work is never overwritten: the pull refuses unless it is committed first
  const uncommitted = p.uncommitted.length > 0 || Boolean(view.refused)
  if (view.refused) box.append(h('div', { class: 'cfd-banner', 'data-testid': 'pull-refused' }, view.refused))
  else if (p.uncommitted.length) box.append(h('div', { class: 'cfd-banner', 'data-testid': 'pull-uncommitted' }, `Not committed yet: ${p.uncommitted.join(', ')}. Pull refuses over uncommitted work; commit it first.`))
  box.append(h('div', { class: 'cfd-head' },
    uncommitted
      ? h('button', { 'data-testid': 'pull-commit-first', title: 'commit the uncommitted work, then pull', disabled: Boolean(s.busy) || open > 0, onclick: () => { void c.applyPull(true) } }, icon('pi-check'), 'Commit first and apply')
      : h('button', { 'data-testid': 'pull-apply', disabled: Boolean(s.busy) || open > 0, onclick: () => { void c.applyPull() } }, icon('pi-check'), 'Apply'),
    h('button', { 'data-testid': 'pull-close', disabled: Boolean(s.busy), onclick: () => c.closePull() }, 'Close')))
  return out
}
