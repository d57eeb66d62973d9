/**
 * @module The one progress event type. Core code emits it, the CLI renders it
 * (bars, plain lines or NDJSON) and the sidecar forwards it to the panel.
 */
export type ProgressPhase = 'start' | 'progress' | 'end' | 'note'

export interface ProgressEvent {
  /** Operation id, unique within one run; nested work points at its parent. */
  op: string
  parent?: string
  phase: ProgressPhase
  /** What is being done ("hash sd_xl_base_1.0.safetensors"). Repeated on every phase. */
  label: string
  /** Absolute, so a dropped event is harmless. */
  current?: number
  total?: number
  /** 'bytes' makes current/total byte counts (rendered with sizes and speed). */
  unit?: 'bytes' | 'items'
  /** On 'end'. */
  outcome?: 'ok' | 'skipped' | 'failed'
  /** On 'note'. */
  level?: 'info' | 'warn'
  message?: string
  /** On a 'note' that a transfer is tried again: how many retries so far (1 on the first). */
  retries?: number
}

export type OnProgress = (event: ProgressEvent) => void
