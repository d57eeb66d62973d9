/** @module Panel header: environment, ComfyUI version, sidecar connection, running operations. */
import type { Controller } from '../controller'
import { h, icon } from '../dom'
import { ICON_CLASS } from '../styles'
import { withoutCommands } from '../user-text'

const SECTION_LABEL: Record<string, string> = { comfyui: 'ComfyUI', python: 'Python', nodes: 'Node packs', repair: 'Environment' }

/** The status sections `env.repair` fixes, and which part of it. */
const REPAIRS: Record<string, { only: 'files' | 'python', title: string }> = {
  python: { only: 'python', title: 'install exactly what the lock pins' },
  nodes: { only: 'files', title: 'install the packs the manifest pins' },
  repair: { only: 'files', title: 'install missing packs, download missing models, put committed workflows back' },
}

const CONN_LABEL = { open: 'connected', connecting: 'connecting…', offline: 'offline', unconfigured: 'no sidecar' } as const

export function renderHeader (c: Controller): HTMLElement {
  const s = c.state
  const conn = h('span', { class: `cfd-conn ${s.connection}`, 'data-testid': 'connection', title: s.connectionDetail },
    icon(s.connection === 'open' ? 'pi-link' : 'pi-exclamation-triangle'), `sidecar ${CONN_LABEL[s.connection]}`)
  const env = s.status?.env ?? s.hello?.activeEnv ?? null
  const out = h('div', { class: 'cfd-section', style: 'border-top: none; padding-top: 0' },
    h('div', { class: 'cfd-head' }, h('i', { class: ICON_CLASS, 'aria-hidden': 'true' }), h('span', { class: 'cfd-env', 'data-testid': 'env-name' }, env ?? 'no environment'), conn),
    h('div', { class: 'cfd-muted', 'data-testid': 'comfyui-version' },
      `ComfyUI ${s.status?.comfyuiVersion ?? 'unknown'} · frontend ${s.support.version ?? 'unknown'}`),
  )
  if (!s.support.ok) out.append(h('div', { class: 'cfd-banner' }, `This ComfyUI frontend lacks ${s.support.missing.join(', ')}; some comfydock features are off.`))
  if (s.connection !== 'open') {
    out.append(h('div', { class: 'cfd-banner', 'data-testid': 'offline' },
      s.connection === 'unconfigured'
        ? `${s.connectionDetail || 'No sidecar configured'}. Start ComfyUI with \`comfydock run\`, or run \`comfydock serve\` and set Settings › comfydock › Sidecar URL and token.`
        : `Sidecar ${CONN_LABEL[s.connection]}: ${withoutCommands(s.connectionDetail) || s.connectionDetail}`))
  } else if (s.hello?.unmanagedComfyui && !s.hello.activeEnv) {
    // `serve` next to a ComfyUI the user set up themselves: it becomes an environment in one click
    out.append(h('div', { class: 'cfd-banner', 'data-testid': 'unmanaged' },
      h('div', {}, `This ComfyUI (${s.hello.unmanagedComfyui}) is not a comfydock environment yet. Adopting it makes one from its version, node packs, Python packages, models (used where they are) and saved workflows; this folder is only read.`),
      c.has('env.adopt')
        ? h('button', { 'data-testid': 'adopt', disabled: Boolean(s.busy), onclick: () => { void c.adopt() } }, icon('pi-sign-in'), 'Adopt this ComfyUI')
        : null))
  } else if (s.hello && !s.hello.activeEnv) {
    const usable = (s.envs ?? []).filter(e => e.complete)
    out.append(h('div', { class: 'cfd-banner', 'data-testid': 'no-env' },
      h('div', {}, usable.length ? 'This workspace has no active environment. Work on:' : 'This workspace has no environments yet.'),
      h('div', { class: 'cfd-tags' }, ...usable.map(e => c.has('env.use')
        ? h('button', { 'data-testid': `use-${e.name}`, disabled: Boolean(s.busy), onclick: () => { void c.useEnvironment(e.name) } }, icon('pi-check-circle'), e.name)
        : h('span', { class: 'cfd-tag' }, e.name)))))
  }
  // sections of the full status that need attention (Python out of sync, missing packs...), each with
  // the button that fixes it; workflows get their own list (what each one lacks)
  const sections = (s.status?.details?.sections ?? {}) as Record<string, { ok?: boolean, summary?: string }>
  for (const [name, section] of Object.entries(sections)) {
    if (section?.ok !== false || name === 'git' || name === 'workflows') continue
    const fix = REPAIRS[name]
    out.append(h('div', { class: 'cfd-banner cfd-head', 'data-testid': `status-${name}` },
      h('span', { class: 'cfd-grow' }, `${SECTION_LABEL[name] ?? name}: ${withoutCommands(section.summary ?? '') || 'needs attention'}`),
      fix && c.has('env.repair')
        ? h('button', { 'data-testid': `repair-${name}`, title: fix.title, disabled: Boolean(s.busy), onclick: () => { void c.repair(fix.only) } }, icon('pi-wrench'), 'Repair')
        : null))
  }
  for (const op of s.ops.values()) {
    const pct = op.total ? Math.min(100, Math.round(((op.current ?? 0) / op.total) * 100)) : undefined
    out.append(h('div', { class: 'cfd-op', 'data-testid': 'progress' },
      h('span', {}, `${op.label}${pct !== undefined ? ` ${pct}%` : '…'}`),
      pct !== undefined ? h('progress', { max: '100', value: String(pct) }) : h('progress', {})))
  }
  if (s.busy && !s.jobs.size) out.append(h('div', { class: 'cfd-muted' }, icon('pi-spin pi-spinner'), ` ${s.busy}…`))
  return out
}

