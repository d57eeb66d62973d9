// Runs the benchmark scripts: each bench/<name>.bench.ts is bundled with esbuild and run in turn.
// `npm run bench` runs all; `npm run bench -- models nodes` runs those named. Benches print ratios
// against a reference tool run side by side on the same data; nothing here asserts a time.
import { build } from 'esbuild'
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'

const wanted = process.argv.slice(2)
const all = readdirSync('bench').filter(f => f.endsWith('.bench.ts')).sort()
const chosen = wanted.length ? all.filter(f => wanted.some(w => f.startsWith(w))) : all
if (chosen.length === 0) {
  console.error(`no bench matches ${wanted.join(', ')}; have: ${all.join(', ')}`)
  process.exit(2)
}
let failed = 0
for (const file of chosen) {
  const out = join('.bench', file.replace(/\.ts$/, '.mjs'))
  await build({ entryPoints: [join('bench', file)], outfile: out, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning' })
  console.log(`\n=== ${file} ===`)
  const res = spawnSync(process.execPath, ['--expose-gc', out], { stdio: 'inherit' })
  if (res.status !== 0) failed++
}
process.exit(failed ? 1 : 0)
