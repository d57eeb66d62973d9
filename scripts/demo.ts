/**
 * The README's first command: an offline, end-to-end run on a built-in default.
 *
 * It builds a sample ComfyUI source (a small ComfyUI-shaped git repo with local wheels, the same one
 * the tests use), serves two small model files over loopback HTTP (standing in for Hugging Face),
 * then drives the real CLI: workspace, environment, model downloads into the index, a tracked
 * workflow, a commit, an export — and an import of that bundle into a second workspace, where the
 * models are downloaded again and verified by hash.
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { basename, join, relative, resolve } from 'node:path'
import { makeComfyuiRepo } from '../test/support/comfyui-repo'

const root = resolve('.demo')
const cli = resolve('dist', 'cli.js')

function step (title: string): void {
  console.log(`\n\u001b[1m▶ ${title}\u001b[22m`)
}

/** Runs the CLI asynchronously: the model server lives in this process and must keep answering. */
async function comfydock (env: NodeJS.ProcessEnv, ...args: string[]): Promise<void> {
  console.log(`$ comfydock ${args.map(a => a.startsWith(root) ? relative(process.cwd(), a) : a.includes(' ') ? JSON.stringify(a) : a).join(' ')}`)
  const child = spawn(process.execPath, [cli, ...args], { env, stdio: ['ignore', 'inherit', 'inherit'] })
  const code = await new Promise<number>(r => child.on('close', c => r(c ?? 1)))
  if (code !== 0) {
    console.error(`\ndemo stopped: \`comfydock ${args.join(' ')}\` exited ${code}`)
    process.exit(1)
  }
}

/** Deterministic pseudo-random bytes, so the demo's model hashes are the same on every run. */
function modelBytes (seed: string, size: number): Buffer {
  const out = Buffer.alloc(size)
  let block = createHash('sha256').update(seed).digest()
  for (let off = 0; off < size; off += block.length) {
    block.copy(out, off)
    block = createHash('sha256').update(block).digest()
  }
  return out
}

const WORKFLOW = {
  last_node_id: 4,
  last_link_id: 2,
  nodes: [
    { id: 1, type: 'CheckpointLoaderSimple', pos: [50, 100], size: [315, 98], flags: {}, order: 0, mode: 0, inputs: [], outputs: [{ name: 'MODEL', type: 'MODEL', links: [1] }, { name: 'CLIP', type: 'CLIP', links: [2] }, { name: 'VAE', type: 'VAE', links: null }], properties: { 'Node name for S&R': 'CheckpointLoaderSimple' }, widgets_values: ['sd15/demo-checkpoint.safetensors'] },
    { id: 2, type: 'LoraLoader', pos: [400, 100], size: [315, 126], flags: {}, order: 1, mode: 0, inputs: [{ name: 'model', type: 'MODEL', link: 1 }, { name: 'clip', type: 'CLIP', link: 2 }], outputs: [{ name: 'MODEL', type: 'MODEL', links: null }, { name: 'CLIP', type: 'CLIP', links: null }], properties: { 'Node name for S&R': 'LoraLoader' }, widgets_values: ['demo-lora.safetensors', 1, 1] },
    { id: 3, type: 'EmptyLatentImage', pos: [50, 300], size: [315, 106], flags: {}, order: 2, mode: 0, inputs: [], outputs: [{ name: 'LATENT', type: 'LATENT', links: null }], properties: {}, widgets_values: [512, 512, 1] },
    { id: 4, type: 'Note', pos: [400, 300], size: [300, 80], flags: {}, order: 3, mode: 0, inputs: [], outputs: [], properties: {}, widgets_values: ['comfydock demo workflow'] },
  ],
  links: [[1, 1, 0, 2, 0, 'MODEL'], [2, 1, 1, 2, 1, 'CLIP']],
  groups: [],
  config: {},
  extra: {},
  version: 0.4,
}

async function main (): Promise<void> {
  rmSync(root, { recursive: true, force: true })
  mkdirSync(root, { recursive: true })

  step('Sample ComfyUI source (local git repo with tags v0.3.6 and v0.3.7, wheels for its requirements)')
  const repo = await makeComfyuiRepo(root)
  console.log(`source: ${repo.url}`)
  // pip may only install the sample wheels: the demo never needs the network.
  const env = { ...process.env, ...repo.indexEnv, NO_COLOR: process.env.NO_COLOR ?? '' }

  step('Model files served over loopback HTTP (a stand-in for Hugging Face)')
  const files = join(root, 'hub')
  mkdirSync(files, { recursive: true })
  writeFileSync(join(files, 'demo-checkpoint.safetensors'), modelBytes('checkpoint', 3 * 1024 * 1024))
  writeFileSync(join(files, 'demo-lora.safetensors'), modelBytes('lora', 512 * 1024))
  const server = createServer((req, res) => {
    const file = join(files, basename(req.url ?? ''))
    try {
      res.writeHead(200, { 'content-length': statSync(file).size, 'content-type': 'application/octet-stream' })
      createReadStream(file).pipe(res)
    } catch {
      res.writeHead(404).end()
    }
  })
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as { port: number }).port
  const hub = `http://127.0.0.1:${port}`
  console.log(`serving ${hub}/`)

  try {
    const ws1 = join(root, 'workspace')
    step('Workspace and environment')
    await comfydock(env, 'init', ws1)
    await comfydock(env, '--workspace', ws1, 'config', 'comfyui_source', repo.url)
    await comfydock(env, '--workspace', ws1, 'create', 'portraits', '--comfyui', 'v0.3.7')

    step('Models: download into the content-addressed index (verified, source recorded)')
    await comfydock(env, '--workspace', ws1, 'model', 'download', `${hub}/demo-checkpoint.safetensors`, '--path', 'checkpoints/sd15/demo-checkpoint.safetensors')
    await comfydock(env, '--workspace', ws1, 'model', 'download', `${hub}/demo-lora.safetensors`, '--category', 'loras')
    await comfydock(env, '--workspace', ws1, 'model', 'index', 'list')

    step('A workflow saved in ComfyUI, tracked and committed')
    const userWorkflows = join(ws1, 'environments', 'portraits', 'ComfyUI', 'user', 'default', 'workflows')
    mkdirSync(userWorkflows, { recursive: true })
    writeFileSync(join(userWorkflows, 'txt2img-lora.json'), JSON.stringify(WORKFLOW, null, 2))
    await comfydock(env, '--workspace', ws1, 'workflow', 'analyze', join(userWorkflows, 'txt2img-lora.json'))
    await comfydock(env, '--workspace', ws1, 'workflow', 'track', '--all')
    await comfydock(env, '--workspace', ws1, 'commit', '-m', 'Add txt2img-lora workflow')
    await comfydock(env, '--workspace', ws1, 'log')
    await comfydock(env, '--workspace', ws1, 'status')

    step('Export to one .tar.gz (no models, no venv)')
    const bundle = join(root, 'portraits.tar.gz')
    await comfydock(env, '--workspace', ws1, 'export', bundle)

    step('Import on "another machine": a second workspace; models are downloaded and verified')
    const ws2 = join(root, 'workspace-2')
    await comfydock(env, 'init', ws2)
    await comfydock(env, '--workspace', ws2, 'config', 'comfyui_source', repo.url)
    await comfydock(env, '--workspace', ws2, '--yes', 'import', bundle, '--models', 'all')
    await comfydock(env, '--workspace', ws2, 'status')
    await comfydock(env, '--workspace', ws2, 'workflow', 'list')
    await comfydock(env, '--workspace', ws2, 'model', 'index', 'list')

    console.log(`\nDone. Everything is under ${root} — try:\n  node dist/cli.js --workspace ${ws2} status\n  node dist/cli.js --workspace ${ws2} run -- --port 8190`)
  } finally {
    server.close()
  }
}

await main()
