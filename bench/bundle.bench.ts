/**
 * Export of an environment with 50 workflows and 20 MB of development nodes, against `tar czf` of
 * the very same files (extracted from our bundle) on the same machine. Goal: ours ≤ 1.5× tar's time.
 * Then import of a bundle with a registry pack, a git pack, a dev node and 2 workflows, without
 * model downloads: total time and the time outside the Python sync (goal < 5 s), warm caches.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { exportEnvironment, extractSafely, importBundle } from '../sidecar/bundle'
import { makeWorld } from '../test/bundle/support/world'
import { CORPUS, makeEnvOnDisk } from '../test/bundle/support/env-on-disk'
import { median, printRows, printValue } from './report'

const root = mkdtempSync(join(tmpdir(), 'bundle-bench-'))
try {
  const corpus = readdirSync(join(CORPUS, 'workflows')).filter(f => f.endsWith('.json')).sort()
  // 20 MB of dev node files: mostly source-like text, some incompressible data (icons, small weights)
  const devFiles: Record<string, Buffer> = {}
  const words = 'def node class return input output tensor image latent model sampler scheduler steps cfg seed'.split(' ')
  for (let i = 0; i < 150; i++) {
    const lines: string[] = []
    let size = 0
    while (size < 100 * 1024) {
      const line = Array.from({ length: 12 }, (_, j) => words[(i * 7 + j * 13 + lines.length) % words.length] + String((lines.length * 31 + j) % 977)).join(' ')
      lines.push(line)
      size += line.length + 1
    }
    devFiles[`pkg${i % 10}/module_${i}.py`] = Buffer.from(lines.join('\n'))
  }
  for (let i = 0; i < 5; i++) devFiles[`assets/blob_${i}.bin`] = randomBytes(1024 * 1024)
  const { ws, env } = await makeEnvOnDisk(join(root, 'ws'), {
    name: 'bench',
    workflows: corpus.slice(0, 1),
    nodes: [{ name: 'bench-dev', version: 'dev', source: 'development' }],
    devNodes: { 'bench-dev': devFiles },
  })
  for (let i = 0; i < 50; i++) copyFileSync(join(CORPUS, 'workflows', corpus[i % corpus.length]), join(env.cecWorkflows, `wf_${String(i).padStart(2, '0')}.json`))
  execFileSync('git', ['-C', env.cec, 'add', '-A'])
  execFileSync('git', ['-C', env.cec, '-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-qm', '50 workflows'])

  const ours = join(root, 'ours.tar.gz')
  const stage = join(root, 'stage')
  await exportEnvironment(ws, env, { output: ours })
  mkdirSync(stage)
  await extractSafely(ours, stage)
  const ref = join(root, 'ref.tar.gz')

  const oursMs = await median(5, () => exportEnvironment(ws, env, { output: ours }))
  const refMs = await median(5, () => execFileSync('tar', ['czf', ref, '-C', stage, '.']))
  printRows('export: 50 workflows + 20 MB dev nodes', [
    { name: 'comfydock export', ours: oursMs, reference: refMs, referenceName: 'tar czf (same files)', goal: '≥ 0.67x (ours ≤ 1.5× tar)' },
  ])

  const world = await makeWorld(join(root, 'world'))
  try {
    const bundle = (await exportEnvironment(world.src.ws, world.src.env, { output: join(root, 'world.tar.gz') })).path
    const dst = await world.newWorkspace('ws-bench-import')
    const runs: Array<{ total: number, sync: number }> = []
    for (let i = 0; i < 4; i++) {
      let syncStart = 0
      let sync = 0
      const t0 = performance.now()
      await importBundle(dst, bundle, {
        name: `imp${i}`,
        models: 'skip',
        onProgress: e => {
          if (e.label !== 'installing Python packages') return
          if (e.phase === 'start') syncStart = performance.now()
          if (e.phase === 'end') sync = performance.now() - syncStart
        },
      })
      if (i > 0) runs.push({ total: performance.now() - t0, sync }) // run 0 fills the ComfyUI and pack caches
    }
    runs.sort((a, b) => a.total - b.total)
    const mid = runs[Math.floor(runs.length / 2)]
    console.log('\nimport: registry + git + dev pack, 2 workflows, no downloads (warm caches)')
    printValue('import total', mid.total, 'ms')
    printValue('of which Python venv + sync', mid.sync, 'ms')
    printValue('import without Python sync', mid.total - mid.sync, 'ms', '< 5000 ms')
  } finally {
    await world.close()
  }
} finally {
  rmSync(root, { recursive: true, force: true })
}
