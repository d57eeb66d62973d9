/** @module The list of command groups. Each module owns its commands and only calls core functions. */
import type { Command } from 'commander'
import { registerWorkspaceCommands } from './workspace'
import { registerEnvCommands } from './env'
import { registerHistoryCommands } from './history'
import { registerBundleCommands } from './bundle'
import { registerServeCommands } from './serve'
import { registerWorkflowCommands } from './workflows'
import { registerModelCommands } from './models'
import { registerNodeCommands } from './nodes'
import { registerAdoptCommands } from './adopt'
import { registerRemoteCommands } from './remote'

export function registerCommands (program: Command): void {
  registerWorkspaceCommands(program)
  registerEnvCommands(program)
  registerHistoryCommands(program)
  registerBundleCommands(program)
  registerAdoptCommands(program)
  registerServeCommands(program)
  registerWorkflowCommands(program)
  registerModelCommands(program)
  registerNodeCommands(program)
  registerRemoteCommands(program)
}
