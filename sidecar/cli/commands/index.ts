/** @module The list of command groups. Each module owns its commands and only calls core functions. */
import type { Command } from 'commander'
import { registerWorkspaceCommands } from './workspace'
import { registerServeCommands } from './serve'

export function registerCommands (program: Command): void {
  registerWorkspaceCommands(program)
  registerServeCommands(program)
}
