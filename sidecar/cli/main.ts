/**
 * @module The comfydock binary: argument parsing and wiring only. Each command group registers
 * itself from cli/commands; handlers call one core function and print its result.
 */
import { Command, CommanderError } from 'commander'
import { ComfydockError } from '../errors'
import { VERSION } from '../version'
import { registerCommands } from './commands'
import { wasInterrupted } from './context'
import { renderCancelled, renderError } from './render/errors'

export function buildProgram (): Command {
  const program = new Command()
  program
    .name('comfydock')
    .description('Reproducible, shareable ComfyUI environments')
    .version(VERSION, '-V, --version')
    .option('-e, --env <name>', 'environment to act on (default: the active one)')
    .option('--json', 'machine-readable output (result on stdout, progress as JSON lines on stderr)')
    .option('-y, --yes', 'never prompt; take safe defaults')
    .option('-v, --verbose', 'more detail, and stack traces on errors')
    .option('--workspace <dir>', 'workspace folder (default: $COMFYDOCK_HOME or ~/comfydock)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
  registerCommands(program)
  return program
}

async function main (argv: string[]): Promise<number> {
  const program = buildProgram()
  const wantsJson = argv.includes('--json')
  const verbose = argv.includes('-v') || argv.includes('--verbose')
  try {
    await program.parseAsync(argv)
    return 0
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0
      // commander already printed its message; only the exit code is ours
      if (wantsJson) process.stdout.write(JSON.stringify({ error: { code: 'USAGE', message: err.message } }) + '\n')
      return 2
    }
    // Ctrl-C: whatever the operation threw while stopping, the user asked for it: one line, exit 130
    if (wasInterrupted()) return renderCancelled(err, wantsJson)
    return renderError(err instanceof Error || err instanceof ComfydockError ? err : new Error(String(err)), { json: wantsJson, verbose })
  }
}

// A command may set a non-zero exit code itself (a batch with some failures); keep the larger one.
const code = await main(process.argv)
process.exitCode = Math.max(Number(process.exitCode ?? 0), code)
