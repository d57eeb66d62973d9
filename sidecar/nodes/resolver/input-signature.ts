/**
 * @module The original tool's node signature key (research/original-comfydock.md section 4.4):
 * `"<NodeType>::<sha1('name:TYPE|...' sorted by name)[:8]>"`, or `"<NodeType>::_"` with no inputs.
 */
import { createHash } from 'node:crypto'

export function inputSignatureKey (type: string, inputs?: Record<string, string>): string {
  const names = Object.keys(inputs ?? {}).sort()
  if (names.length === 0) return `${type}::_`
  const text = names.map(n => `${n}:${inputs![n]}`).join('|')
  return `${type}::${createHash('sha1').update(text).digest('hex').slice(0, 8)}`
}

export function typeOnlyKey (type: string): string {
  return `${type}::_`
}
