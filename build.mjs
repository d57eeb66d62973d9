// Builds the CLI/sidecar into dist/ and the browser extension into exactly one
// ES module under web/js/ (ComfyUI import()s every .js in WEB_DIRECTORY).
import { build } from 'esbuild'
import { chmod, readdir, rm, stat } from 'node:fs/promises'
import { join, relative } from 'node:path'

const watch = process.argv.includes('--watch')

const cli = await build({
  entryPoints: { cli: 'sidecar/cli/main.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  // Command handlers import the core with import(): split chunks keep startup to what the command needs.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: true,
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
  metafile: true,
})
await chmod('dist/cli.js', 0o755)
// Chunks of earlier builds: removed once no CLI started before this build can still import them.
const current = new Set(Object.keys(cli.metafile.outputs).map(f => relative('dist/chunks', f)))
for (const name of await readdir('dist/chunks').catch(() => [])) {
  const file = join('dist/chunks', name)
  if (!current.has(name) && Date.now() - (await stat(file)).mtimeMs > 3_600_000) await rm(file, { force: true })
}

await build({
  entryPoints: ['extension/index.ts'],
  outfile: 'web/js/comfydock.js',
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  external: ['../../scripts/app.js', '../../scripts/api.js'],
  sourcemap: false,
  logLevel: 'warning',
})

if (!watch) console.log('built dist/cli.js and web/js/comfydock.js')
