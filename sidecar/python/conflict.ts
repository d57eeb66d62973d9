/**
 * @module A resolution that cannot hold: the requirements that clash, and the machine's torch when the
 * resolve held it at its installed version (it is never replaced, so it is one side of the conflict).
 */
import { ComfydockError } from '../errors'
import type { Pyproject } from '../manifest'
import { describeMachinePackage, torchMismatches, type MachinePackage } from './machine-torch'

export const CONFLICT_HINT = 'Change or remove the conflicting requirement, then try again.'

export class DependencyConflictError extends ComfydockError {
  /** The machine's torch-family packages the conflict is with (empty: the requirements clash among themselves). */
  readonly machine: MachinePackage[]

  constructor (message: string, opts: { hint?: string, cause?: unknown, machine?: MachinePackage[] } = {}) {
    super('DEPENDENCY_CONFLICT', message, { hint: opts.hint ?? CONFLICT_HINT, cause: opts.cause })
    this.machine = opts.machine ?? []
  }
}

/** The conflict of requirements with the machine's own torch, which no install changes. */
export function machineTorchConflict (lines: string[], machine: MachinePackage[]): DependencyConflictError {
  const held = machine.map(describeMachinePackage).join('; ')
  return new DependencyConflictError(`the requirements need another torch than this machine has (${held}); comfydock never replaces it:\n${lines.join('\n')}`, {
    hint: 'Keep this torch and drop the requirement (skip the pack), or make the environment with the torch it asks for: `--torch-backend` on `comfydock create`/`import`, or a venv without --system-site-packages.',
    machine,
  })
}

/**
 * Refuses, before any installer runs, a manifest whose own requirements (ComfyUI's, a pack's group) do not
 * allow the torch-family versions the machine has. Requirements of dependencies are the installer's to
 * check: the resolve holds the machine's versions (see machine-torch.ts).
 */
export function assertMachineTorchHolds (doc: Pyproject, machine: MachinePackage[], pythonVersion?: string): void {
  const bad = torchMismatches(doc, machine, pythonVersion)
  if (bad.length === 0) return
  throw machineTorchConflict(bad.map(b => `${b.requirement} does not allow this machine's ${b.machine.name} ${b.machine.version}`), [...new Set(bad.map(b => b.machine))])
}
