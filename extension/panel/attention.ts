/**
 * @module Workflows of the environment that need attention and are not open in a tab (open tabs show
 * their own): what each lacks, with the Download / Install button that fixes it. Read from the
 * `workflows` section of the full status, the same report `comfydock status` prints.
 */
import type { MissingModel, MissingNode } from '../../sidecar/protocol'
import type { Controller } from '../controller'
import { h, icon } from '../dom'

/** The parts of a status workflow entry the panel reads (passed through as data: read defensively). */
interface StatusWorkflow {
  name: string
  tracked?: boolean
  state?: string
  missing_nodes?: Array<{ type: string, status?: string, pack?: string, candidates?: string[] }>
  missing_models?: Array<{ filename: string, path?: string, folder?: string | null, hash?: string, download?: { url: string, relative_path: string }, refs?: Array<{ node_id: string, node_type: string, input: string | null }> }>
  error?: { message: string }
}

const STATE_LABEL: Record<string, string> = { new: 'not committed', modified: 'changed since commit', deleted: 'deleted in ComfyUI' }

export function statusWorkflows (c: Controller): StatusWorkflow[] {
  const section = (c.state.status?.details?.sections as Record<string, { workflows?: unknown }> | undefined)?.workflows
  return Array.isArray(section?.workflows) ? section.workflows as StatusWorkflow[] : []
}

/** As the panel's Download takes it. */
export function missingModelOf (m: NonNullable<StatusWorkflow['missing_models']>[number]): MissingModel {
  const ref = m.refs?.[0]
  return {
    nodeId: ref?.node_id ?? '',
    nodeType: ref?.node_type ?? '',
    ...(ref?.input ? { input: ref.input } : {}),
    value: m.path ?? m.filename,
    ...(m.folder ? { folder: m.folder } : {}),
    ...(m.download?.url ? { url: m.download.url } : {}),
    ...(m.hash ? { hash: m.hash } : {}),
  }
}

export function missingNodeOf (n: NonNullable<StatusWorkflow['missing_nodes']>[number]): MissingNode {
  const pack = n.pack ?? n.candidates?.[0]
  return { type: n.type, ...(pack ? { pack } : {}), ...(!n.pack && n.candidates && n.candidates.length > 1 ? { alternatives: n.candidates.slice(1) } : {}) }
}

export function renderAttention (c: Controller): HTMLElement {
  const s = c.state
  const open = new Set(s.tabs.map(t => t.tab.name))
  const out = h('div', { class: 'cfd-section', 'data-testid': 'attention' })
  const list = statusWorkflows(c).filter(w => !open.has(w.name) &&
    (w.state !== 'synced' || w.missing_nodes?.length || w.missing_models?.length || w.error))
  // no heading over an empty list (`hidden` alone lost to .cfd-section's display: flex)
  if (!list.length) { out.hidden = true; return out }
  out.append(h('h3', {}, 'Workflows needing attention'))
  for (const w of list) {
    const row = h('div', { class: 'cfd-tab', 'data-testid': `attention-${w.name}` },
      h('div', { class: 'cfd-tab-row' }, icon('pi-file'), h('span', { class: 'cfd-tab-name' }, w.name)),
      h('div', { class: 'cfd-tags' },
        w.tracked === false ? h('span', { class: 'cfd-tag' }, 'untracked') : null,
        w.state && STATE_LABEL[w.state] ? h('span', { class: 'cfd-tag warn' }, STATE_LABEL[w.state]) : null,
        w.error ? h('span', { class: 'cfd-tag warn', title: w.error.message }, 'unreadable') : null))
    for (const m of w.missing_models ?? []) row.append(modelLine(c, missingModelOf(m)))
    for (const n of w.missing_nodes ?? []) row.append(nodeLine(c, missingNodeOf(n), n.status === 'resolved' ? 'not installed' : 'missing'))
    out.append(row)
  }
  return out
}

/** One missing model with its Download button (shared with the open tabs' list). */
export function modelLine (c: Controller, m: MissingModel): HTMLElement {
  return h('div', { class: 'cfd-missing' }, icon('pi-database'), h('span', { title: `${m.nodeType} ${m.input ?? ''}: ${m.value}` }, `missing model ${m.value}`),
    c.has('models.download') && m.url
      ? h('button', { 'data-testid': 'download', disabled: Boolean(c.state.busy), onclick: () => { void c.download(m) } }, icon('pi-download'), 'Download')
      : h('span', { class: 'cfd-muted' }, 'no source known'))
}

/** One missing node type with its Install button (shared with the open tabs' list). */
export function nodeLine (c: Controller, n: MissingNode, what = 'missing'): HTMLElement {
  if (n.loadError) {
    // installed already: Install would only fail again; the reason is what the user needs. A Python
    // traceback ends with the error: that line first, the traceback folded below it
    const lines = n.loadError.trim().split('\n').filter(l => l.trim())
    return h('div', { class: 'cfd-missing', 'data-testid': 'failed-to-load' }, icon('pi-exclamation-triangle'),
      h('span', {}, `node ${n.type}: ${n.pack ?? 'its pack'} failed to load`),
      h('div', { class: 'cfd-reason', 'data-testid': 'load-error', title: n.loadError }, lines.at(-1) ?? n.loadError),
      lines.length > 1 ? h('details', { class: 'cfd-reason' }, h('summary', {}, 'traceback'), n.loadError) : null)
  }
  const others = n.alternatives?.length ? ` · also in ${n.alternatives.join(', ')}` : ''
  return h('div', { class: 'cfd-missing' }, icon('pi-th-large'), h('span', {}, `${what} node ${n.type}${n.pack ? ` (${n.pack}${others})` : ''}`),
    c.has('nodes.install') && n.pack
      ? h('button', { 'data-testid': 'install', title: `install ${n.pack}`, disabled: Boolean(c.state.busy), onclick: () => { void c.install(n) } }, icon('pi-plus'), 'Install')
      : h('span', { class: 'cfd-muted' }, 'pack unknown'))
}
