#!/usr/bin/env node
// Generates sidecar/workflows/data/core-loaders.ts and core-nodes.ts from a REAL ComfyUI capture:
//   object_info (GET /api/object_info) + model lists (GET /api/models, /api/models/<folder>).
// A COMBO input whose non-empty option list equals a folder's file list reads that folder; its widget
// position follows input_order. Classes that failed to import in the capture (UpscaleModelLoader) or whose
// folder was empty (PhotoMakerLoader) come from the same ComfyUI version's source, when a checkout is given.
//
// Newer core node types (after the capture's version) come from real UI workflows: nodes whose
// properties.cnr_id is "comfy-core" (the frontend writes it from the server's python_module).
//
// Usage: node scripts/gen-workflow-tables.mjs [object_info.json] [models.json] [comfyui-source-dir] [workflows-dir]
import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'

const objectInfoPath = process.argv[2] ?? '/work/shared/comfyui/object_info-v0.3.7.json'
const modelsPath = process.argv[3] ?? '/work/shared/comfyui/models-v0.3.7.json'
const sourceDir = process.argv[4] ?? '/work/ComfyUI-v0.3.7'
const workflowsDir = process.argv[5] ?? new URL('../test/workflows/corpus/workflows/', import.meta.url).pathname
const outDir = new URL('../sidecar/workflows/data/', import.meta.url)

const objectInfo = JSON.parse(readFileSync(objectInfoPath, 'utf8'))
const models = JSON.parse(readFileSync(modelsPath, 'utf8'))
const WIDGET_TYPES = new Set(['INT', 'FLOAT', 'STRING', 'BOOLEAN', 'COMBO'])
// Legacy disk folders ComfyUI merges into the new names.
const FOLDER_ALIASES = { clip: 'text_encoders', unet: 'diffusion_models', t2i_adapter: 'controlnet' }

const folderKeys = new Map()
for (const folder of models.folders) {
  const files = models[folder]
  if (folder === 'custom_nodes' || !Array.isArray(files) || files.length === 0) continue
  folderKeys.set([...files].sort().join('\n'), folder)
}

function comboOptions (spec) {
  if (Array.isArray(spec?.[0])) return spec[0]
  if (spec?.[0] === 'COMBO' && Array.isArray(spec[1]?.options)) return spec[1].options
  return undefined
}

function isWidget (spec) {
  return comboOptions(spec) !== undefined || (typeof spec?.[0] === 'string' && WIDGET_TYPES.has(spec[0]))
}

// The frontend adds a hidden "control_after_generate" value after seed-like INT widgets.
function hasControlValue (name, spec) {
  return spec?.[0] === 'INT' && (spec[1]?.control_after_generate === true || name === 'seed' || name === 'noise_seed')
}

const loaders = []
const coreNodes = []
for (const [type, info] of Object.entries(objectInfo)) {
  if (!String(info.python_module ?? '').startsWith('custom_nodes')) coreNodes.push(type)
  let position = 0
  for (const group of ['required', 'optional']) {
    for (const name of info.input_order?.[group] ?? Object.keys(info.input?.[group] ?? {})) {
      const spec = info.input?.[group]?.[name]
      if (!isWidget(spec)) continue
      const options = comboOptions(spec)
      const folder = options && options.length > 0 ? folderKeys.get([...options].sort().join('\n')) : undefined
      if (folder && folder !== 'configs') loaders.push({ type, input: name, index: position, folder, from: 'object_info' })
      position += hasControlValue(name, spec) ? 2 : 1
    }
  }
}

// Source supplement: `"name": (folder_paths.get_filename_list("folder"), ...)` in INPUT_TYPES of classes the
// capture could not list. Only classes absent from the table are added, so the capture stays the authority.
function sourceLoaders (dir) {
  const files = []
  for (const sub of ['', 'comfy_extras']) {
    const d = join(dir, sub)
    for (const f of readdirSync(d)) if (f.endsWith('.py')) files.push(join(d, f))
  }
  const found = []
  const types = new Set()
  for (const file of files) {
    const text = readFileSync(file, 'utf8')
    const mapping = new Map()
    for (const m of text.matchAll(/"([^"]+)"\s*:\s*([A-Za-z_][A-Za-z0-9_]*)\s*[,}\n]/g)) mapping.set(m[2], m[1])
    for (const cls of text.matchAll(/^class\s+(\w+)[^\n]*\n([\s\S]*?)(?=^class\s|(?![\s\S]))/gm)) {
      const body = cls[2]
      const inputTypes = body.match(/def INPUT_TYPES[\s\S]*?return\s*(\{[\s\S]*?)\n\s*(?:RETURN_TYPES|FUNCTION|CATEGORY|OUTPUT|def )/)
      if (!inputTypes) continue
      const type = mapping.get(cls[1])
      if (!type) continue
      types.add(type)
      let position = 0
      for (const e of inputTypes[1].matchAll(/"(\w+)"\s*:\s*\(\s*([^,)]+)/g)) {
        const expr = e[2].trim()
        const folder = expr.match(/get_filename_list\("(\w+)"/)?.[1]
        const socket = /^"[A-Z_]+"$/.test(expr) && !WIDGET_TYPES.has(expr.slice(1, -1))
        if (socket) continue
        if (folder) found.push({ type, input: e[1], index: position, folder: FOLDER_ALIASES[folder] ?? folder, from: 'source' })
        position += expr === '"INT"' && (e[1] === 'seed' || e[1] === 'noise_seed') ? 2 : 1
      }
    }
  }
  return { found, types }
}

if (existsSync(sourceDir)) {
  const known = new Set(loaders.map(l => `${l.type}.${l.input}`))
  const { found, types } = sourceLoaders(sourceDir)
  // Classes that failed to import in the capture are still core.
  for (const t of types) if (!coreNodes.includes(t)) coreNodes.push(t)
  for (const l of found) {
    if (known.has(`${l.type}.${l.input}`) || l.folder === 'configs') continue
    known.add(`${l.type}.${l.input}`)
    loaders.push(l)
  }
}

// Core types newer than the capture, as real workflows mark them.
const newerCore = new Set()
if (existsSync(workflowsDir)) {
  const visit = (nodes, subgraphIds) => {
    for (const n of Array.isArray(nodes) ? nodes : []) {
      if (n?.properties?.cnr_id === 'comfy-core' && typeof n.type === 'string' && !subgraphIds.has(n.type) && !objectInfo[n.type]) newerCore.add(n.type)
    }
  }
  for (const f of readdirSync(workflowsDir).filter(f => f.endsWith('.json')).sort()) {
    let doc
    try { doc = JSON.parse(readFileSync(join(workflowsDir, f), 'utf8')) } catch { continue }
    const subgraphs = Array.isArray(doc?.definitions?.subgraphs) ? doc.definitions.subgraphs : []
    const ids = new Set(subgraphs.map(sg => sg.id))
    visit(doc?.nodes, ids)
    for (const sg of subgraphs) visit(sg.nodes, ids)
  }
}

loaders.sort((a, b) => a.type.localeCompare(b.type) || a.index - b.index)
coreNodes.sort()

const header = (what) => `// GENERATED by scripts/gen-workflow-tables.mjs (real ComfyUI capture and real workflows) — do not edit.\n// ${what}\n`
const rows = loaders.map(l => `  { type: ${JSON.stringify(l.type)}, input: ${JSON.stringify(l.input)}, index: ${l.index}, folder: ${JSON.stringify(l.folder)} },`)
writeFileSync(new URL('core-loaders.ts', outDir), header(`Core loader inputs: node type, input name, widget position, model folder (${loaders.length} rows).`) +
  `import type { LoaderInput } from '../loader-types'\n\nexport const CORE_LOADERS: readonly LoaderInput[] = [\n${rows.join('\n')}\n]\n`)
writeFileSync(new URL('core-nodes.ts', outDir), header(`Node types a stock ComfyUI provides (${coreNodes.length}).`) +
  `export const CORE_NODE_TYPES: readonly string[] = [\n${coreNodes.map(t => `  ${JSON.stringify(t)},`).join('\n')}\n]\n`)
const newer = [...newerCore].filter(t => !coreNodes.includes(t)).sort()
writeFileSync(new URL('newer-core-nodes.ts', outDir), header(`Core node types newer than the capture, marked cnr_id "comfy-core" in real workflows (${newer.length}).`) +
  `export const NEWER_CORE_NODE_TYPES: readonly string[] = [\n${newer.map(t => `  ${JSON.stringify(t)},`).join('\n')}\n]\n`)
console.log(`wrote ${loaders.length} loader inputs, ${coreNodes.length} core node types, ${newer.length} newer core node types`)
