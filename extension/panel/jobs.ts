/**
 * @module Running downloads and installs: step, bytes and percent, retries, and a Cancel button. Rows
 * are updated in place (progress arrives ten times a second): a Cancel click never lands on a button
 * that is being replaced.
 */
import type { Controller, Job } from '../controller'
import { h, icon } from '../dom'

/** `1.5 MiB` */
export function formatBytes (n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++ }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`
}

/** `12 MiB of 256 MiB · 4% · retry 1` */
export function jobFacts (job: Job): string {
  const pct = job.total ? Math.min(100, Math.floor(((job.current ?? 0) / job.total) * 100)) : undefined
  const amount = job.current === undefined
    ? ''
    : job.unit === 'bytes'
      ? `${formatBytes(job.current)}${job.total ? ` of ${formatBytes(job.total)}` : ''}`
      : `${job.current}${job.total ? ` of ${job.total}` : ''}`
  return [amount, pct !== undefined ? `${pct}%` : '', job.retries ? `retry ${job.retries}` : '', job.cancelling ? 'cancelling…' : ''].filter(Boolean).join(' · ') || 'starting…'
}

interface Row {
  el: HTMLElement
  step: HTMLElement
  facts: HTMLElement
  bar: HTMLProgressElement
  cancel: HTMLButtonElement
}

export class JobsView {
  readonly el = h('div', { class: 'cfd-jobs', 'data-testid': 'jobs' })
  private readonly rows = new Map<string, Row>()

  update (c: Controller): void {
    const jobs = c.state.jobs
    for (const [request, row] of this.rows) {
      if (!jobs.has(request)) { row.el.remove(); this.rows.delete(request) }
    }
    for (const job of jobs.values()) {
      let row = this.rows.get(job.request)
      if (!row) {
        const cancel = h('button', { 'data-testid': 'cancel', title: 'stop it; nothing is changed', onclick: () => { void c.cancel(job.request) } }, icon('pi-times'), 'Cancel') as HTMLButtonElement
        const step = h('div', { class: 'cfd-muted' })
        const facts = h('div', { class: 'cfd-muted', 'data-testid': 'job-progress' })
        const bar = h('progress', { max: '100' }) as HTMLProgressElement
        const el = h('div', { class: 'cfd-op', 'data-testid': 'job' },
          h('div', { class: 'cfd-head' }, h('span', { class: 'cfd-job-label' }, job.label), cancel), step, facts, bar)
        row = { el, step, facts, bar, cancel }
        this.rows.set(job.request, row)
        this.el.append(el)
      }
      row.step.textContent = job.step && job.step !== job.label ? job.step : ''
      row.facts.textContent = jobFacts(job)
      if (job.total) row.bar.value = Math.min(100, ((job.current ?? 0) / job.total) * 100)
      else row.bar.removeAttribute('value')
      row.cancel.disabled = job.cancelling
    }
    this.el.hidden = jobs.size === 0
  }
}
