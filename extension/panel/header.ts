/** @module Panel header: environment, ComfyUI version, sidecar connection, running operations. */
import type { Controller } from '../controller'
import { h, icon } from '../dom'
import { ICON_CLASS } from '../styles'

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
        : `Sidecar ${CONN_LABEL[s.connection]}: ${s.connectionDetail}`))
  } else if (s.hello && !s.hello.activeEnv) {
    out.append(h('div', { class: 'cfd-banner' }, 'The workspace has no active environment. Run `comfydock use NAME`.'))
  }
  // sections of the full status that need attention (Python out of sync, missing packs...)
  const sections = (s.status?.details?.sections ?? {}) as Record<string, { ok?: boolean, summary?: string }>
  for (const [name, section] of Object.entries(sections)) {
    if (section?.ok === false && name !== 'git') out.append(h('div', { class: 'cfd-banner', 'data-testid': `status-${name}` }, `${name}: ${section.summary ?? 'needs attention'}`))
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

