// `node scripts/peer-fixtures.mjs [tool...]`: makes test/fixtures/peers/ again with the real peer tools
// (pinned versions, installed into scratch venvs). See scripts/peer-fixtures/main.ts.
import { build } from 'esbuild'
import { spawnSync } from 'node:child_process'

await build({ entryPoints: ['scripts/peer-fixtures/main.ts'], outfile: '.peer-fixtures-build/main.mjs', bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning' })
const res = spawnSync(process.execPath, ['.peer-fixtures-build/main.mjs', ...process.argv.slice(2)], { stdio: 'inherit' })
process.exit(res.status ?? 1)
