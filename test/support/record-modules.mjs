// Preloaded with `node --import` into a CLI run: writes every module the process loaded to the file in
// COMFYDOCK_RECORD_MODULES, ES modules through a load hook and CommonJS ones from require.cache at exit.
import { appendFileSync } from 'node:fs'
import { createRequire, register } from 'node:module'

const out = process.env.COMFYDOCK_RECORD_MODULES
if (out) {
  register('./record-modules-hooks.mjs', import.meta.url, { data: { out } })
  const require = createRequire(import.meta.url)
  process.on('exit', () => appendFileSync(out, Object.keys(require.cache).join('\n') + '\n'))
}
