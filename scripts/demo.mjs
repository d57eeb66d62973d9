// `npm run demo`: bundles scripts/demo.ts (which reuses the tests' sample ComfyUI builder) and runs it.
import { build } from 'esbuild'
import { spawnSync } from 'node:child_process'

await build({ entryPoints: ['scripts/demo.ts'], outfile: '.demo-build/demo.mjs', bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning' })
const res = spawnSync(process.execPath, ['.demo-build/demo.mjs'], { stdio: 'inherit' })
process.exit(res.status ?? 1)
