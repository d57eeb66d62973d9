/**
 * @module A dependency conflict told in packs: the pack being installed and its requirements on one
 * side; the other packs, ComfyUI's own requirements or the machine's torch on the other; and the
 * choices, as data for the CLI's prompt, `--on-conflict` and `--json`, and the panel. Nothing has
 * changed when one is raised: the installer resolves everything before it installs anything.
 */
import { ComfydockError } from '../../errors'
import type { NodeEntry, Pyproject } from '../../manifest'
import { DependencyConflictError, requirementName, unsatisfiedRequirements, type MachinePackage } from '../../python'
import { packGroupName, packsRequiring } from '../pack-manifest'

/** One side of a conflict: a pack, ComfyUI itself, or the torch this machine has (never replaced). */
export interface ConflictSide {
  kind: 'pack' | 'comfyui' | 'machine'
  /** The pack id; `ComfyUI`; `this machine`. */
  name: string
  /** Its requirements the installer named (for the machine: what it has, `torch==1.13.1 from the system Python`). */
  requirements: string[]
}

/** What the user can do about a conflict. Skip is what already happened: nothing changed. */
export type ConflictChoice =
  | { kind: 'skip', label: string }
  /** Remove the packs on the other side, then install this one. */
  | { kind: 'replace', remove: string[], label: string }
  /** Settle the versions with override requirements (`[tool.uv] override-dependencies`), then install. */
  | { kind: 'override', requirements: string[], label: string }

export interface DependencyConflict {
  /** The pack being added or updated. */
  pack: string
  requirements: string[]
  with: ConflictSide[]
  choices: ConflictChoice[]
  /** The installer's own lines. */
  detail: string
}

/** What to do with a conflict: the choice's kind, and for an override its requirements. */
export type ConflictDecision = { kind: 'skip' } | { kind: 'replace' } | { kind: 'override', requirements: string[] }

/** A conflict raised by installing a pack, with the pack's entry and group so a choice can be applied. */
export class PackConflictError extends ComfydockError {
  constructor (
    message: string,
    readonly conflict: DependencyConflict,
    readonly candidate: { entry: NodeEntry, requirements: string[] },
    opts: { hint: string, cause: unknown },
  ) {
    super('DEPENDENCY_CONFLICT', message, opts)
  }
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/**
 * The conflict between `packId` and the packs (or ComfyUI, or the machine's torch) whose requirements
 * the installer named, with the requirement on each side; undefined when the message names no other
 * side. uv names the groups themselves (`<project>:<group>`); pip quotes requirements, which are matched
 * to the groups holding them. Requirements on the machine's torch that it satisfies are no side of it.
 */
export function packConflict (err: ComfydockError, doc: Pyproject, packId: string): PackConflictError | undefined {
  const machine: MachinePackage[] = err instanceof DependencyConflictError ? err.machine : []
  const text = err.message.toLowerCase().replace(/_/g, '-')
  const mentioned = (req: string): boolean => new RegExp(`(^|[^a-z0-9-])${escape(requirementName(req))}([^a-z0-9-]|$)`).test(text)
  // a requirement on a held torch-family package counts only when the machine's version does not satisfy it
  const involved = (req: string): boolean => mentioned(req) && !(machine.some(p => p.name === requirementName(req)) && unsatisfiedRequirements([req], machine).length === 0)
  const groupOf = (id: string): string[] => {
    const entry = doc.tool.comfydock.nodes?.[id]
    return entry ? doc['dependency-groups']?.[packGroupName(id, entry)] ?? [] : []
  }
  const byGroup = packsRequiring(doc, () => true).filter(id => text.includes(`:${packGroupName(id, doc.tool.comfydock.nodes![id])}`))
  const others = [...new Set([...byGroup, ...packsRequiring(doc, involved)])].filter(id => id !== packId)
  const sides: ConflictSide[] = others.map(id => ({ kind: 'pack' as const, name: id, requirements: groupOf(id).filter(involved) }))
  if (doc.project.dependencies.some(involved)) sides.push({ kind: 'comfyui', name: 'ComfyUI', requirements: doc.project.dependencies.filter(involved) })
  if (machine.length) sides.push({ kind: 'machine', name: 'this machine', requirements: machine.map(p => `${p.name}==${p.version}${p.system ? ' from the system Python' : ''}`) })
  if (sides.length === 0) return undefined
  const entry = doc.tool.comfydock.nodes?.[packId]
  if (!entry) return undefined
  const ours = groupOf(packId).filter(involved)
  const heldInDispute = machine.filter(p => mentioned(p.name)).map(p => p.name)
  const conflict: DependencyConflict = { pack: packId, requirements: ours, with: sides, choices: conflictChoices(packId, ours, sides, heldInDispute), detail: err.message }
  const describe = (s: { name: string, requirements: string[] }): string => `${s.name}${s.requirements.length ? ` (${s.requirements.join(', ')})` : ''}`
  return new PackConflictError(`${describe({ name: packId, requirements: ours })} conflicts with ${sides.map(describe).join(', ')}:\n${err.message}`, conflict,
    { entry, requirements: groupOf(packId) }, {
      hint: `pyproject.toml, the lock and the venv are unchanged. Choices:\n  - ${conflict.choices.map(c => c.label).join('\n  - ')}`,
      cause: err,
    })
}

/**
 * The choices: skip (what happened); remove the other packs and install this one (only when every other
 * side is a pack); settle the version with an override. The suggested override is this pack's own
 * requirement on the package in dispute; against the machine's torch, its bare name (`torch`): every
 * requirement on it, the pack's and its dependencies', then takes the machine's.
 */
function conflictChoices (packId: string, ours: string[], sides: ConflictSide[], heldInDispute: string[]): ConflictChoice[] {
  const packs = sides.filter(s => s.kind === 'pack').map(s => s.name)
  const suggested = heldInDispute.length ? heldInDispute : [...new Set(ours)]
  const machine = heldInDispute
  const overrideArg = suggested.length ? suggested.map(r => `"${r}"`).join(' ') : '"<requirement>"'
  return [
    { kind: 'skip', label: `skip ${packId}: nothing changes (this is what happened)` },
    ...(packs.length && packs.length === sides.length
      ? [{ kind: 'replace' as const, remove: packs, label: `keep ${packId} instead of ${packs.join(', ')}: \`comfydock node add ${packId} --on-conflict replace\` removes ${packs.length === 1 ? 'it' : 'them'} first (or \`comfydock node remove ${packs.join(' ')}\`, then add ${packId} again)` }]
      : []),
    {
      kind: 'override',
      requirements: suggested,
      label: `allow it with a constraint that settles the version: \`comfydock node add ${packId} --override ${overrideArg}\` (recorded in [tool.uv] override-dependencies${machine.length ? '; the machine keeps its torch, which the pack may not work with' : ''})`,
    },
  ]
}
