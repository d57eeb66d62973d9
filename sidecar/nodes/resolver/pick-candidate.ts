/**
 * @module Choosing one pack for a node type without ever choosing silently: an explicit answer (the
 * environment's map, the node's own `cnr_id`) or a single candidate is taken; several go to the user's
 * `choose` callback; with `yes` the installed candidate (else the top rank) is taken and the message
 * says so; otherwise NODE_AMBIGUOUS lists them.
 */
import { ComfydockError } from '../../errors'
import type { NodeTypeResolution, PackCandidate } from './create-node-resolver'

export type PickReason = 'explicit' | 'only' | 'chosen' | 'installed' | 'top-rank'

export interface Pick {
  candidate: PackCandidate
  reason: PickReason
  /** Set when the pick was made for the user (--yes), to be shown. */
  message?: string
}

export interface PickOptions {
  yes?: boolean
  /** Interactive choice; undefined means the user skipped this type. */
  choose?: (res: NodeTypeResolution) => Promise<PackCandidate | undefined>
}

function describe (c: PackCandidate): string {
  return `${c.packId}${c.version ? `@${c.version}` : ''} (${c.source}${c.installed ? ', installed' : ''})`
}

/** Undefined when there is nothing to pick (no candidates, core or optional type, or the user skipped). */
export async function pickCandidate (res: NodeTypeResolution, opts: PickOptions = {}): Promise<Pick | undefined> {
  const [top, ...rest] = res.candidates
  if (!top) return undefined
  if (top.source === 'manifest' || top.source === 'workflow') return { candidate: top, reason: 'explicit' }
  if (rest.length === 0) return { candidate: top, reason: 'only' }
  if (opts.choose) {
    const chosen = await opts.choose(res)
    return chosen && { candidate: chosen, reason: 'chosen' }
  }
  if (opts.yes) {
    const inst = res.candidates.find(c => c.installed)
    const pick = inst ?? top
    const others = res.candidates.filter(c => c !== pick).map(c => c.packId).join(', ')
    return {
      candidate: pick,
      reason: inst ? 'installed' : 'top-rank',
      message: `${res.type}: took ${pick.packId} (${inst ? 'installed' : 'top rank'}) over ${others}`,
    }
  }
  throw new ComfydockError('NODE_AMBIGUOUS', `node type "${res.type}" is provided by several packs: ${res.candidates.map(describe).join(', ')}`, {
    hint: 'Choose one interactively, or re-run with --yes to take the installed (else top-ranked) pack.',
  })
}
