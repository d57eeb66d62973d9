// Builds the CLI/sidecar into dist/ and the browser extension into exactly one
// ES module under web/js/ (ComfyUI import()s every .js in WEB_DIRECTORY).
import { build } from 'esbuild'
import { chmod } from 'node:fs/promises'

const watch = process.argv.includes('--watch')

await build({
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
})
await chmod('dist/cli.js', 0o755)

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
