/**
 * A separate process that takes an environment's lock with the real lock code (bundled by the test):
 * `node lock-holder.mjs <cec> <env-name> <operation>`. Prints "locked" once held; releases and exits when
 * its stdin closes. Killed with SIGKILL it leaves a stale lock behind, as a crashed comfydock would.
 */
import { acquireEnvLock } from '../../sidecar/env/lock'
import type { EnvPaths } from '../../sidecar/workspace'

const [cec, name, operation] = process.argv.slice(2)
const lock = await acquireEnvLock({ cec, name } as EnvPaths, operation)
process.stdout.write('locked\n')
process.stdin.resume()
process.stdin.on('end', () => {
  void lock.release().then(() => process.exit(0))
})
