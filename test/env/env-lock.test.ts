import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { build } from 'esbuild'
import { beforeAll, describe, expect, it } from 'vitest'
import { acquireEnvLock, envLockFile, withEnvLock } from '../../sidecar/env'
import { openGit } from '../../sidecar/git'
import { runCliAsync, type CliResult } from '../support/cli'
import { makeTempDir } from '../support/temp-dir'
import { makeEnvFixture, type EnvFixture } from '../workflows/env-fixture'

const graph = (note: string): Record<string, unknown> => ({
  last_node_id: 1,
  last_link_id: 0,
  nodes: [{ id: 1, type: 'SaveImage', pos: [0, 0], size: [300, 100], flags: {}, order: 0, mode: 0, inputs: [], outputs: [], properties: {}, widgets_values: [note] }],
  links: [],
  groups: [],
  config: {},
  extra: {},
  version: 0.4,
})

/** The built CLI as its own process, without blocking the test (several run at once). */
function cli (fx: EnvFixture, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCliAsync(args, { workspace: fx.ws.root, env })
}

let holderScript: string

/** Starts a process holding the environment's lock; resolves once it holds it. */
async function holdLock (fx: EnvFixture, operation: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [holderScript, fx.env.cec, fx.env.name, operation], { stdio: ['pipe', 'pipe', 'inherit'] })
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', d => String(d).includes('locked') ? resolve() : reject(new Error(String(d))))
    child.once('exit', code => reject(new Error(`holder exited with ${code}`)))
  })
  return child
}

const exited = (child: ChildProcess): Promise<void> => new Promise(resolve => child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve()))

beforeAll(async () => {
  holderScript = join(makeTempDir('lockholder'), 'lock-holder.mjs')
  await build({ entryPoints: [join(import.meta.dirname, 'lock-holder.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: holderScript, logLevel: 'silent' })
})

describe('environment lock', () => {
  let fx: EnvFixture
  beforeAll(async () => {
    fx = await makeEnvFixture('locked')
    await openGit(fx.env.cec).commit('Initial environment setup')
  })

  it('a second taker in the same process waits until the first releases', async () => {
    const order: string[] = []
    const first = await acquireEnvLock(fx.env, 'first')
    const second = withEnvLock(fx.env, 'second', async () => { order.push('second') })
    await new Promise(r => setTimeout(r, 150))
    order.push('first done')
    await first.release()
    await second
    expect(order).toEqual(['first done', 'second'])
    expect(existsSync(envLockFile(fx.env))).toBe(false)
  })

  it('`comfydock commit` while another process holds the lock fails with ENV_BUSY naming that process', async () => {
    writeFileSync(join(fx.env.cec, 'notes.txt'), 'busy test')
    const holder = await holdLock(fx, 'comfydock commit')
    try {
      const res = await cli(fx, ['commit', '-m', 'while busy'], { COMFYDOCK_LOCK_TIMEOUT_MS: '300' })
      expect(res.code).toBe(1)
      expect(res.stderr).toContain(`error[ENV_BUSY]: environment "locked" is busy (pid ${holder.pid}: comfydock commit)`)
      expect(res.stderr).toContain('hint:')
      expect((await openGit(fx.env.cec).log()).map(e => e.subject)).not.toContain('while busy')
    } finally {
      holder.stdin!.end()
      await exited(holder)
    }
  })

  it('`comfydock commit` waits for a lock that is released, then commits', async () => {
    const holder = await holdLock(fx, 'comfydock rollback')
    const commit = cli(fx, ['commit', '-m', 'after the wait'])
    setTimeout(() => holder.stdin!.end(), 800)
    const res = await commit
    await exited(holder)
    expect(res.code, res.stderr).toBe(0)
    expect((await openGit(fx.env.cec).log({ limit: 1 }))[0].subject).toBe('after the wait')
  })

  it('a manifest-writing command (workflow track) fails with ENV_BUSY or waits for the lock like commit, and leaves none behind', async () => {
    fx.saveWorkflow('locked-track', graph('locked-track'))
    const holder = await holdLock(fx, 'comfydock panel: install node packs')
    try {
      const busy = await cli(fx, ['workflow', 'track', 'locked-track'], { COMFYDOCK_LOCK_TIMEOUT_MS: '300' })
      expect(busy.code).toBe(1)
      expect(busy.stderr).toContain(`error[ENV_BUSY]: environment "locked" is busy (pid ${holder.pid}: comfydock panel: install node packs)`)
      const manifest = await cli(fx, ['workflow', 'list', '--json'])
      expect(JSON.parse(manifest.stdout).workflows.find((w: { name: string }) => w.name === 'locked-track').tracked).toBe(false)
      const waiting = cli(fx, ['workflow', 'track', 'locked-track'])
      setTimeout(() => holder.stdin!.end(), 500)
      const res = await waiting
      expect(res.code, res.stderr).toBe(0)
    } finally {
      holder.stdin!.end()
      await exited(holder)
    }
    expect(existsSync(envLockFile(fx.env))).toBe(false)
    const list = JSON.parse((await cli(fx, ['workflow', 'list', '--json'])).stdout)
    expect(list.workflows.find((w: { name: string }) => w.name === 'locked-track').tracked).toBe(true)
  })

  it('a read-only command (workflow list) does not wait for the lock', async () => {
    const holder = await holdLock(fx, 'comfydock commit')
    try {
      const status = await cli(fx, ['workflow', 'list', '--json'], { COMFYDOCK_LOCK_TIMEOUT_MS: '100' })
      expect(status.code, status.stderr).toBe(0)
    } finally {
      holder.stdin!.end()
      await exited(holder)
    }
  })

  it('takes over a lock left by a process that died', async () => {
    const holder = await holdLock(fx, 'comfydock commit')
    holder.kill('SIGKILL')
    await exited(holder)
    expect(existsSync(envLockFile(fx.env))).toBe(true)
    writeFileSync(join(fx.env.cec, 'notes.txt'), 'after a crash')
    const res = await cli(fx, ['commit', '-m', 'after a crash'], { COMFYDOCK_LOCK_TIMEOUT_MS: '2000' })
    expect(res.code, res.stderr).toBe(0)
    expect(existsSync(envLockFile(fx.env))).toBe(false)
  })

  it('takes over a lock a crash left empty, once it is old enough to be sure', async () => {
    const file = envLockFile(fx.env)
    writeFileSync(file, '')
    const old = new Date(Date.now() - 60_000)
    utimesSync(file, old, old)
    expect(await withEnvLock(fx.env, 'test', async () => 'ran', { timeoutMs: 1000 })).toBe('ran')
    expect(existsSync(file)).toBe(false)
  })

  it('a fresh lock that is still being written is waited for, not taken', async () => {
    const file = envLockFile(fx.env)
    writeFileSync(file, '')
    try {
      await expect(withEnvLock(fx.env, 'test', async () => 'ran', { timeoutMs: 200 })).rejects.toMatchObject({ code: 'ENV_BUSY' })
    } finally {
      rmSync(file, { force: true })
    }
  })

  it('commits from several processes at once all land one after the other, none fails in git', async () => {
    const names = Array.from({ length: 24 }, (_, i) => `wf${i}`)
    for (const n of names) fx.saveWorkflow(n, graph(n))
    const track = await cli(fx, ['workflow', 'track', '--all'])
    expect(track.code, track.stderr).toBe(0)
    await openGit(fx.env.cec).commit('track them')
    for (const n of names) fx.saveWorkflow(n, graph(`${n} edited`))
    const results = await Promise.all(names.slice(0, 6).map(n => cli(fx, ['commit', '-m', `commit ${n}`])))
    for (const r of results) {
      // the first commit records every edit; the others find nothing left to commit
      if (r.code !== 0) expect(r.stderr).toMatch(/error\[NOTHING_TO_COMMIT\]/)
    }
    expect(results.filter(r => r.code === 0).length).toBeGreaterThanOrEqual(1)
    expect(await openGit(fx.env.cec).isClean()).toBe(true)
    for (const n of names) expect(await openGit(fx.env.cec).show('HEAD', `workflows/${n}.json`)).toContain(`${n} edited`)
  })
})
