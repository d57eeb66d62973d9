/**
 * @module Texts from the core are written for the terminal ("run `comfydock -e art repair`"). The panel
 * offers the action as a button instead, so sentences that tell the user to type a command are left out.
 */

/** A backticked command line of ours: `comfydock …` or `cfd …`. */
const COMMAND = /`(?:comfydock|cfd)\b[^`]*`/

/** `text` without the sentences or clauses that name a command to type; '' when nothing else is left. */
export function withoutCommands (text: string): string {
  if (!COMMAND.test(text)) return text
  return text
    .split(/(?<=[;.!?])\s+|\n/)
    .filter(part => !COMMAND.test(part))
    .join(' ')
    .replace(/[\s;:,]+$/, '')
    .trim()
}
