/**
 * @module Renders progress events: bars on a TTY, plain lines otherwise, NDJSON with --json.
 * Everything goes to stderr so stdout carries only the command's result.
 */
import type * as CliProgress from 'cli-progress'
import type { SingleBar } from 'cli-progress'
import { lazyRequire } from '../../lazy-require'
import type { OnProgress, ProgressEvent } from '../../protocol'
import { formatBytes, style } from './style'

// Bars are drawn only on a TTY: scripts and --json never load cli-progress.
const cliProgress = lazyRequire<typeof CliProgress>('cli-progress')

export interface ProgressRenderer {
  onProgress: OnProgress
  /** Stops bars; call before printing the result. */
  close (): void
}

export function createProgressRenderer (mode: 'json' | 'tty' | 'plain'): ProgressRenderer {
  if (mode === 'json') {
    return { onProgress: e => { process.stderr.write(JSON.stringify({ type: 'progress', ...e }) + '\n') }, close () {} }
  }
  if (mode === 'plain') return plainRenderer()
  return ttyRenderer()
}

function amount (e: ProgressEvent, value: number | undefined): string {
  if (value === undefined) return ''
  return e.unit === 'bytes' ? formatBytes(value) : String(value)
}

function plainRenderer (): ProgressRenderer {
  const lastStep = new Map<string, number>()
  const err = process.stderr
  return {
    onProgress (e) {
      switch (e.phase) {
        case 'start':
          err.write(`${e.label}${e.total ? ` (${amount(e, e.total)})` : ''}...\n`)
          break
        case 'progress': {
          if (!e.total || e.current === undefined) return
          const step = Math.floor((e.current / e.total) * 4)
          if (step > (lastStep.get(e.op) ?? 0) && step < 4) {
            lastStep.set(e.op, step)
            err.write(`${e.label}: ${step * 25}% (${amount(e, e.current)}/${amount(e, e.total)})\n`)
          }
          break
        }
        case 'end':
          lastStep.delete(e.op)
          err.write(`${e.label}: ${e.outcome === 'failed' ? 'failed' : e.outcome === 'skipped' ? 'skipped' : 'done'}${e.message ? ` (${e.message})` : ''}\n`)
          break
        case 'note':
          err.write(`${e.level === 'warn' ? 'warning: ' : ''}${e.message ?? e.label}\n`)
          break
      }
    },
    close () {},
  }
}

function ttyRenderer (): ProgressRenderer {
  const err = process.stderr
  const { MultiBar, Presets } = cliProgress()
  const multi = new MultiBar({
    stream: err,
    clearOnComplete: true,
    hideCursor: true,
    format: (_opts, params, payload: { label: string, unit?: string }) => {
      const width = 24
      const ratio = params.total > 0 ? Math.min(1, params.value / params.total) : 0
      const bar = '█'.repeat(Math.round(ratio * width)).padEnd(width, '░')
      const fmt = (n: number): string => payload.unit === 'bytes' ? formatBytes(n) : String(n)
      return `${bar} ${String(Math.round(ratio * 100)).padStart(3)}% ${fmt(params.value)}/${fmt(params.total)} ${payload.label}`
    },
  }, Presets.shades_classic)
  const bars = new Map<string, SingleBar>()
  let open = true
  const log = (line: string): void => { if (open) multi.log(line + '\n') }
  return {
    onProgress (e) {
      if (!open) return
      switch (e.phase) {
        case 'start':
          if (e.total) bars.set(e.op, multi.create(e.total, e.current ?? 0, { label: e.label, unit: e.unit }))
          else log(style.dim(`${e.label}...`, err))
          break
        case 'progress': {
          const bar = bars.get(e.op)
          if (bar) {
            if (e.total) bar.setTotal(e.total)
            bar.update(e.current ?? 0, { label: e.label, unit: e.unit })
          } else if (e.total) {
            bars.set(e.op, multi.create(e.total, e.current ?? 0, { label: e.label, unit: e.unit }))
          }
          break
        }
        case 'end': {
          const bar = bars.get(e.op)
          if (bar) { multi.remove(bar); bars.delete(e.op) }
          const mark = e.outcome === 'failed' ? style.red('✗', err) : e.outcome === 'skipped' ? style.yellow('-', err) : style.green('✓', err)
          log(`${mark} ${e.label}${e.message ? style.dim(` (${e.message})`, err) : ''}`)
          break
        }
        case 'note':
          log(e.level === 'warn' ? `${style.yellow('warning', err)}: ${e.message ?? e.label}` : (e.message ?? e.label))
          break
      }
    },
    close () {
      if (!open) return
      open = false
      multi.stop()
    },
  }
}
