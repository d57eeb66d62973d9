/**
 * Starts a real ComfyUI the way a user does: `comfydock -e ENV run -- --port P [--front-end-root DIR]`,
 * which links the comfydock bridge, starts the sidecar and runs ComfyUI with the environment's Python.
 * Stopping it is Ctrl-C's path: SIGTERM to comfydock, which stops ComfyUI and the sidecar.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import type { RealSetup } from './prepare'
import { REPO } from './prepare'

export interface RunningComfyUI {
  url: string
  /** ComfyUI's folder inside the environment. */
  comfyui: string
  /** Everything comfydock and ComfyUI printed so far. */
  output (): string
  stop (): Promise<void>
}

export function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

export function envPaths (setup: RealSetup, env: string): { root: string, comfyui: string, cec: string, userWorkflows: string } {
  const root = join(setup.workspace, 'environments', env)
  const comfyui = join(root, 'ComfyUI')
  return { root, comfyui, cec: join(root, '.cec'), userWorkflows: join(comfyui, 'user', 'default', 'workflows') }
}

/** The environment as `create` left it: no workflows, no commits after the first; `also` are removed too. */
export function resetEnvironment (setup: RealSetup, env: string, also: string[] = []): void {
  const p = envPaths(setup, env)
  const git = (args: string[]): string => execFileSync('git', ['-C', p.cec, ...args], { encoding: 'utf8' })
  git(['reset', '-q', '--hard', git(['rev-list', '--max-parents=0', 'HEAD']).trim()])
  git(['clean', '-q', '-fd'])
  for (const path of [p.userWorkflows, ...also]) rmSync(path, { recursive: true, force: true })
}

/**
 * ComfyUI's server-side settings for a user who has been here before: no first-run template browser,
 * no "what's new" popup. `extra` adds settings for one frontend (e.g. Vue node rendering).
 */
export function writeUserSettings (comfyui: string, extra: Record<string, unknown> = {}): void {
  const dir = join(comfyui, 'user', 'default')
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'comfy.settings.json'), JSON.stringify({
    'Comfy.TutorialCompleted': true,
    'Comfy.Release.Status': 'skipped',
    'Comfy.Release.Version': '99.0.0',
    ...extra,
  }, null, 1))
}

async function waitFor (url: string, child: ChildProcess, out: () => string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`comfydock run exited (${child.exitCode ?? child.signalCode}):\n${out().slice(-4000)}`)
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) })
      if (res.ok) return
    } catch { /* not up yet */ }
    await new Promise(r => setTimeout(r, 250))
  }
  throw new Error(`ComfyUI did not answer ${url} within ${timeoutMs / 1000} s:\n${out().slice(-4000)}`)
}

export async function startComfyUI (setup: RealSetup, env: string, opts: { frontendRoot?: string, extraArgs?: string[] } = {}): Promise<RunningComfyUI> {
  const port = await freePort()
  const args = [join(REPO, 'dist', 'cli.js'), '--workspace', setup.workspace, '-e', env, 'run', '--',
    '--cpu', '--listen', '127.0.0.1', '--port', String(port), '--disable-auto-launch',
    ...(opts.frontendRoot ? ['--front-end-root', opts.frontendRoot] : []), ...(opts.extraArgs ?? [])]
  const child = spawn(process.execPath, args, {
    cwd: REPO,
    env: { ...process.env, NO_COLOR: '1', PYTHONPATH: setup.pythonPath, PIP_CONSTRAINT: setup.constraints },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let text = ''
  child.stdout!.on('data', (c: Buffer) => { text += c.toString('utf8') })
  child.stderr!.on('data', (c: Buffer) => { text += c.toString('utf8') })
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  const url = `http://127.0.0.1:${port}`
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    await exited
    clearTimeout(timer)
  }
  try {
    await waitFor(`${url}/api/object_info`, child, () => text, 120_000)
  } catch (err) {
    await stop()
    throw err
  }
  return { url, comfyui: envPaths(setup, env).comfyui, output: () => text, stop }
}
