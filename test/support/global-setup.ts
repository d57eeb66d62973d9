// CLI and browser tests run the built artifacts; build once so they never test stale code.
import { execFileSync } from 'node:child_process'

export default function setup (): void {
  execFileSync(process.execPath, ['build.mjs'], { stdio: 'inherit' })
}
