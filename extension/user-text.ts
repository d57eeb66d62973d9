/**
 * @module Texts from the core are written for the terminal ("run `comfydock -e art repair`"). The panel
 * offers the action as a button instead, so sentences that tell the user to type a command are left out.
 */

/** A backticked command line of ours: `comfydock …` or `cfd …`. */
const COMMAND = /`(?:comfydock|cfd)\b[^`]*`/

/** "run the same command again": in the panel that is the button the user just pressed. */
const AGAIN = /\b(r)un the (?:same )?command again\b/gi

/** `text` without the sentences or clauses that name a command to type; '' when nothing else is left. */
export function withoutCommands (text: string): string {
  text = text.replace(AGAIN, (_m, r: string) => r === 'R' ? 'Try again' : 'try again')
  if (!COMMAND.test(text)) return text
  return text
    .split(/(?<=[;.!?])\s+|\n/)
    .filter(part => !COMMAND.test(part))
    .join(' ')
    .replace(/[\s;:,]+$/, '')
    .trim()
}
