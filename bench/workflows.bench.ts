// Workflow analysis speed: the whole real corpus (goal < 100 ms after start-up) and a 50-workflow status with a
// warm cache (goal < 50 ms). Reference: Python reading and json-parsing the same files and walking widget
// values for model-file strings (the original tool's minimum work), timed inside Python so start-up is excluded.
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { openGit } from '../sidecar/git'
import { writeManifest } from '../sidecar/manifest'
import { analyzeWorkflow, getWorkflowStatus, trackWorkflows } from '../sidecar/workflows'
import { Workspace } from '../sidecar/workspace'
import { median, printRows, printValue } from './report'

const corpus = resolve('test/workflows/corpus')
const files = [
  ...readdirSync(join(corpus, 'workflows')).map(f => join(corpus, 'workflows', f)),
  ...readdirSync(join(corpus, 'png')).map(f => join(corpus, 'png', f)),
]
const bytes = files.map(f => readFileSync(f))

const PY_REFERENCE = `
import json, sys, time, zlib, struct
EXT = ('.safetensors', '.ckpt', '.pt', '.pth', '.bin', '.gguf', '.sft', '.onnx')
def png_text(b):
    out, p = {}, 8
    while p + 8 <= len(b):
        n, t = struct.unpack('>I4s', b[p:p+8]); d = b[p+8:p+8+n]; p += 12 + n
        if t == b'tEXt':
            k, v = d.split(b'\\0', 1); out[k.decode('latin1')] = v.decode('latin1')
        if t == b'IEND': break
    return out
def walk(v, hits):
    if isinstance(v, str):
        if v.lower().endswith(EXT): hits.append(v)
    elif isinstance(v, list):
        for x in v: walk(x, hits)
    elif isinstance(v, dict):
        for x in v.values(): walk(x, hits)
def run(paths):
    hits = []
    for p in paths:
        b = open(p, 'rb').read()
        text = png_text(b).get('workflow') if b[:4] == b'\\x89PNG' else b.decode('utf8')
        doc = json.loads(text)
        for n in (doc.get('nodes') or doc.values()):
            walk(n.get('widgets_values') if 'nodes' in doc else n.get('inputs'), hits)
    return hits
paths = sys.argv[2:]
reps = int(sys.argv[1])
run(paths)
ts = []
for _ in range(reps):
    t0 = time.perf_counter(); run(paths); ts.append((time.perf_counter() - t0) * 1000)
ts.sort(); print(ts[len(ts)//2])
`

function pythonMs (paths: string[]): number {
  const r = spawnSync('python3', ['-c', PY_REFERENCE, '5', ...paths], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(r.stderr)
  return Number(r.stdout.trim())
}

async function statusFixture (n: number): Promise<{ ws: Workspace, env: ReturnType<Workspace['env']>, root: string, paths: string[] }> {
  const root = mkdtempSync(join(tmpdir(), 'cfd-wfbench-'))
  const { workspace: ws } = await Workspace.init(join(root, 'ws'))
  for (const key of ['registry_url', 'node_mappings_url']) await ws.setConfig(key, 'http://127.0.0.1:9/')
  const env = ws.env('bench')
  for (const d of [env.cecWorkflows, env.userWorkflows, env.customNodes]) mkdirSync(d, { recursive: true })
  await writeManifest(env.pyproject, { project: { name: 'comfydock-env-bench', version: '0.1.0', dependencies: [] }, tool: { comfydock: { schema_version: 1 } } })
  await openGit(env.cec).init()
  const ui = files.filter(f => f.endsWith('.json') && !f.endsWith('.api.json'))
  const paths: string[] = []
  for (let i = 0; i < n; i++) {
    const target = join(env.userWorkflows, `wf${String(i).padStart(2, '0')}.json`)
    copyFileSync(ui[i % ui.length], target)
    paths.push(target)
  }
  writeFileSync(join(ws.modelsDir, '.keep'), '')
  await trackWorkflows(env, 'all')
  return { ws, env, root, paths }
}

const analyzeAll = () => bytes.forEach((b, i) => analyzeWorkflow(b, { file: files[i] }))
const oursCorpus = await median(7, analyzeAll)
printRows(`Analysis of the whole corpus (${files.length} files, ${(bytes.reduce((a, b) => a + b.length, 0) / 1e6).toFixed(1)} MB)`, [
  { name: 'analyzeWorkflow, all files', ours: oursCorpus, reference: pythonMs(files), referenceName: 'python json+walk', goal: '< 100 ms' },
])

const { ws, env, root, paths } = await statusFixture(50)
const cold = await median(1, () => getWorkflowStatus(ws, env, { network: false }), false)
const warm = await median(7, () => getWorkflowStatus(ws, env, { network: false }))
printRows('Status of 50 tracked workflows', [
  { name: 'getWorkflowStatus, warm cache', ours: warm, reference: pythonMs(paths), referenceName: 'python json+walk', goal: '< 50 ms' },
])
printValue('getWorkflowStatus, first run (cold cache)', cold, 'ms')
rmSync(root, { recursive: true, force: true })
