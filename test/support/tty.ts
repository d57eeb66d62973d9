/** Runs the built CLI on a real terminal (a pty from util-linux `script`), answering prompts as a user types. */
import { spawn } from 'node:child_process'
import { CLI } from './cli'

/**
 * Runs `comfydock <args>` on a pty; each time `prompt` appears once more on screen, the next of `keys`
 * is typed. Resolves with everything the terminal showed.
 */
export function runOnTty (args: string[], prompt: RegExp, keys: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const cmd = [process.execPath, CLI, ...args].map(a => `'${a.replace(/'/g, "'\\''")}'`).join(' ')
  const child = spawn('script', ['-qec', cmd, '/dev/null'], { env: { ...process.env, ...env, NO_COLOR: '1', TERM: 'xterm' } })
  const every = new RegExp(prompt.source, prompt.flags.includes('g') ? prompt.flags : prompt.flags + 'g')
  let out = ''
  let sent = 0
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      if (sent < keys.length && (out.match(every) ?? []).length > sent) child.stdin.write(keys[sent++])
    })
    child.on('error', reject)
    child.on('close', () => resolve(out))
  })
}
