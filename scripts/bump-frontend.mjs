// Moves the "newest" frontend pin of the real-ComfyUI suite (test/real-comfyui/frontends.json) to the newest
// comfyui-frontend-package release on PyPI, asked through pip. Run it, then `npm run test:real`.
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'

const file = resolve(import.meta.dirname, '..', 'test', 'real-comfyui', 'frontends.json')
const python = process.env.COMFYDOCK_REAL_PYTHON ?? 'python3'
const out = execFileSync(python, ['-m', 'pip', 'index', 'versions', '--disable-pip-version-check', 'comfyui-frontend-package'], { encoding: 'utf8' })
const newest = /comfyui-frontend-package \(([^)]+)\)/.exec(out)?.[1]
if (!newest || !/^\d+\.\d+\.\d+$/.test(newest)) throw new Error(`could not read the newest version from pip:\n${out.slice(0, 500)}`)
const doc = JSON.parse(readFileSync(file, 'utf8'))
const pin = doc.frontends.find(f => f.newest)
if (pin.version === newest) {
  console.log(`the newest pin is already ${newest}`)
} else {
  console.log(`newest frontend: ${pin.version} -> ${newest}`)
  pin.version = newest
  writeFileSync(file, JSON.stringify(doc, null, 2) + '\n')
}
