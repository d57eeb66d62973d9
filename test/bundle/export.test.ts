import { execFileSync } from 'node:child_process'
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, utimesSync, writeFileSync, ftruncateSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { exportEnvironment, readExtractedBundle, extractSafely, defaultBundleName } from '../../sidecar/bundle'
import type { OnProgress, ProgressEvent } from '../../sidecar/protocol'
import { runCli } from '../support/cli'
import { makeTempDir } from '../support/temp-dir'
import { commitEnv, makeEnvOnDisk, type EnvSpec } from './support/env-on-disk'

const SPEC: EnvSpec = {
  name: 'portraits',
  workflows: ['default.json', 'canny_workflow.json'],
  nodes: [
    { name: 'ComfyUI-Impact-Pack', registry_id: 'comfyui-impact-pack', version: '8.8.1', source: 'registry' },
    { name: 'ComfyUI-KJNodes', repository: 'https://github.com/kijai/ComfyUI-KJNodes', version: 'a'.repeat(40), source: 'git' },
    { name: 'my-dev-node', version: 'dev', source: 'development' },
  ],
  models: {
    '5c1d2e3f4a5b6c7d': { filename: 'sd_xl_base_1.0.safetensors', size: 1234, relative_path: 'checkpoints/sd_xl_base_1.0.safetensors', category: 'checkpoints', sources: ['https://example.test/sdxl.safetensors'] },
  },
  workflowEntries: {
    default: { models: [{ filename: 'sd_xl_base_1.0.safetensors', category: 'checkpoints', criticality: 'flexible', status: 'resolved', nodes: [], hash: '5c1d2e3f4a5b6c7d' }] },
  },
  devNodes: {
    'my-dev-node': {
      '__init__.py': 'NODE_CLASS_MAPPINGS = {}\n',
      'nodes.py': 'print("hi")\n',
      '.gitignore': 'outputs/\n*.ckpt\n',
      'outputs/big.png': 'not shipped',
      'weights.ckpt': 'not shipped',
      '__pycache__/nodes.cpython-311.pyc': 'bytecode',
      '.git/HEAD': 'ref: refs/heads/main\n',
      'sub/.gitignore': 'local.txt\n',
      'sub/local.txt': 'not shipped',
      'sub/kept.txt': 'shipped',
    },
    // a registry node's folder: its source is re-fetched on import, never bundled
    'ComfyUI-Impact-Pack': { '__init__.py': 'registry code' },
  },
}

function listArchive (file: string): string[] {
  return execFileSync('tar', ['tzf', file], { encoding: 'utf8' }).split('\n').filter(Boolean).sort()
}

describe('export', () => {
  it('bundles manifest, pyproject, python version, workflows and filtered dev node sources only', async () => {
    const root = makeTempDir('export')
    const { ws, env } = await makeEnvOnDisk(join(root, 'ws'), SPEC)
    mkdirSync(env.venv, { recursive: true })
    writeFileSync(join(env.venv, 'pyvenv.cfg'), 'home = /usr\n')
    const res = await exportEnvironment(ws, env, { output: join(root, 'out.tar.gz') })
    expect(listArchive(res.path)).toEqual([
      '.python-version',
      'dev_nodes/my-dev-node/.gitignore',
      'dev_nodes/my-dev-node/__init__.py',
      'dev_nodes/my-dev-node/nodes.py',
      'dev_nodes/my-dev-node/sub/.gitignore',
      'dev_nodes/my-dev-node/sub/kept.txt',
      'manifest.json',
      'pyproject.toml',
      'workflows/canny_workflow.json',
      'workflows/default.json',
    ])
    expect(res.summary).toMatchObject({ environment: 'portraits', workflows: 2, models: 1, nodes: { total: 3, registry: 1, git: 1, development: 1 } })
    const manifest = JSON.parse(execFileSync('tar', ['xzOf', res.path, 'manifest.json'], { encoding: 'utf8' }))
    expect(manifest).toMatchObject({
      format: 'comfydock-bundle', format_version: 1, environment_name: 'portraits', python_version: '3.11', comfyui_version: 'v0.3.7',
      platform: process.platform, workflows: ['canny_workflow.json', 'default.json'], total_nodes: 3, total_models: 1,
    })
    expect(execFileSync('tar', ['xzOf', res.path, 'pyproject.toml'], { encoding: 'utf8' })).toBe(readFileSync(env.pyproject, 'utf8'))
  })

  it('reads back as a valid bundle after safe extraction', async () => {
    const root = makeTempDir('export')
    const { ws, env } = await makeEnvOnDisk(join(root, 'ws'), SPEC)
    const res = await exportEnvironment(ws, env, { output: join(root, 'b.tar.gz') })
    const dir = join(root, 'x')
    mkdirSync(dir)
    await extractSafely(res.path, dir)
    const bundle = await readExtractedBundle(dir)
    expect(bundle.kind).toBe('comfydock')
    expect(bundle.devNodes).toEqual(['my-dev-node'])
    expect(bundle.workflows).toEqual(['canny_workflow.json', 'default.json'])
    expect(bundle.pyproject.tool.comfydock.nodes?.['comfyui-impact-pack']?.version).toBe('8.8.1')
  })

  it('gives identical bytes for the same commit, and different bytes after a new commit', async () => {
    const root = makeTempDir('export')
    const { ws, env } = await makeEnvOnDisk(join(root, 'ws'), SPEC)
    const a = await exportEnvironment(ws, env, { output: join(root, 'a.tar.gz') })
    // touching files changes their mtimes on disk but not the commit
    const later = new Date(Date.now() + 3_600_000)
    utimesSync(join(env.customNodes, 'my-dev-node', 'nodes.py'), later, later)
    utimesSync(env.pyproject, later, later)
    const b = await exportEnvironment(ws, env, { output: join(root, 'b.tar.gz') })
    expect(readFileSync(b.path).equals(readFileSync(a.path))).toBe(true)

    for (const dir of [env.cecWorkflows, env.userWorkflows]) writeFileSync(join(dir, 'default.json'), JSON.stringify({ nodes: [], links: [] }))
    await commitEnv(env, 'change a workflow')
    const c = await exportEnvironment(ws, env, { output: join(root, 'c.tar.gz') })
    expect(readFileSync(c.path).equals(readFileSync(a.path))).toBe(false)
  })

  it('refuses uncommitted changes, naming the files and the commit command', async () => {
    const root = makeTempDir('export')
    const { ws, env } = await makeEnvOnDisk(join(root, 'ws'), SPEC)
    writeFileSync(join(env.cecWorkflows, 'new.json'), '{}')
    const err = await exportEnvironment(ws, env, { output: join(root, 'a.tar.gz') }).catch(e => e)
    expect(err.code).toBe('UNCOMMITTED_CHANGES')
    expect(err.message).toContain('workflows/new.json')
    expect(err.hint).toContain('comfydock -e portraits commit')
  })

  it('refuses when a tracked workflow was changed in ComfyUI but not committed', async () => {
    const root = makeTempDir('export')
    const { ws, env } = await makeEnvOnDisk(join(root, 'ws'), SPEC)
    writeFileSync(join(env.userWorkflows, 'default.json'), JSON.stringify({ nodes: [{ id: 1, type: 'KSampler' }], links: [] }))
    const err = await exportEnvironment(ws, env, { output: join(root, 'a.tar.gz') }).catch(e => e)
    expect(err.code).toBe('UNCOMMITTED_CHANGES')
    expect(err.message).toContain('default: modified')
    expect(err.hint).toContain('comfydock -e portraits commit')
  })

  it('refuses workflows with unresolved required models unless --allow-issues, listing the resolve commands', async () => {
    const root = makeTempDir('export')
    const spec: EnvSpec = {
      ...SPEC,
      workflowEntries: {
        canny_workflow: { models: [{ filename: 'control_canny.safetensors', category: 'controlnet', criticality: 'required', status: 'unresolved', nodes: [] }] },
      },
    }
    const { ws, env } = await makeEnvOnDisk(join(root, 'ws'), spec)
    const err = await exportEnvironment(ws, env, { output: join(root, 'a.tar.gz') }).catch(e => e)
    expect(err.code).toBe('EXPORT_BLOCKED')
    expect(err.message).toContain('canny_workflow (control_canny.safetensors)')
    expect(err.hint).toContain('comfydock workflow resolve canny_workflow')
    const events: ProgressEvent[] = []
    const res = await exportEnvironment(ws, env, { output: join(root, 'a.tar.gz'), allowIssues: true, onProgress: e => events.push(e) })
    expect(res.summary.warnings.join('\n')).toContain('canny_workflow')
    expect(events.some(e => e.phase === 'note' && e.level === 'warn' && e.message?.includes('canny_workflow'))).toBe(true)
  })

  it('warns about models without a download source and files that look like secrets', async () => {
    const root = makeTempDir('export')
    const spec: EnvSpec = {
      ...SPEC,
      models: { '5c1d2e3f4a5b6c7d': { filename: 'sd_xl_base_1.0.safetensors', size: 10 } },
      devNodes: { 'my-dev-node': { '__init__.py': '', '.env': 'API_KEY=abc', 'keys/server.pem': '-----BEGIN' } },
    }
    const { ws, env } = await makeEnvOnDisk(join(root, 'ws'), spec)
    const res = await exportEnvironment(ws, env, { output: join(root, 'a.tar.gz') })
    expect(res.summary.models_without_source).toEqual(['sd_xl_base_1.0.safetensors'])
    const warnings = res.summary.warnings.join('\n')
    expect(warnings).toContain('.env, which looks like a secret')
    expect(warnings).toContain('keys/server.pem, which looks like a secret')
  })

  it('warns over 50 MB and refuses dev nodes over 200 MB unless allowed', async () => {
    const root = makeTempDir('export')
    const { ws, env } = await makeEnvOnDisk(join(root, 'ws'), { ...SPEC, devNodes: { 'my-dev-node': { '__init__.py': '' } } })
    const big = join(env.customNodes, 'my-dev-node', 'data.bin')
    const sparse = (size: number): void => { const fd = openSync(big, 'w'); ftruncateSync(fd, size); closeSync(fd) }
    sparse(201 * 1024 * 1024)
    const err = await exportEnvironment(ws, env, { output: join(root, 'a.tar.gz') }).catch(e => e)
    expect(err.code).toBe('DEV_NODE_TOO_LARGE')
    expect(err.message).toContain('my-dev-node is 201 MB')
    expect(err.hint).toContain('--allow-large-dev-nodes')
    sparse(51 * 1024 * 1024)
    const res = await exportEnvironment(ws, env, { output: join(root, 'a.tar.gz') })
    expect(res.summary.warnings.join('\n')).toContain('my-dev-node is 51 MB')
  })

  it('stops when cancelled and leaves no partial bundle', async () => {
    const root = makeTempDir('export')
    const { ws, env } = await makeEnvOnDisk(join(root, 'ws'), SPEC)
    const ctl = new AbortController()
    ctl.abort()
    const err = await exportEnvironment(ws, env, { output: join(root, 'out'), signal: ctl.signal }).catch(e => e)
    expect(err.code).toBe('CANCELLED')
    expect(readdirSync(root).filter(f => f !== 'ws')).toEqual([])
  })

  it('reports byte progress while writing', async () => {
    const root = makeTempDir('export')
    const { ws, env } = await makeEnvOnDisk(join(root, 'ws'), SPEC)
    const events: ProgressEvent[] = []
    const onProgress: OnProgress = e => events.push(e)
    await exportEnvironment(ws, env, { output: join(root, 'a.tar.gz'), onProgress })
    const mine = events.filter(e => e.label === 'export portraits')
    expect(mine[0].phase).toBe('start')
    expect(mine[0].unit).toBe('bytes')
    expect(mine.at(-1)).toMatchObject({ phase: 'end', outcome: 'ok' })
  })
})

describe('comfydock export (CLI)', () => {
  it('writes <env>_export_<date>.tar.gz into the current folder and prints a summary', async () => {
    const root = makeTempDir('export-cli')
    await makeEnvOnDisk(join(root, 'ws'), SPEC)
    const res = runCli(['-e', 'portraits', 'export'], { workspace: join(root, 'ws'), cwd: root })
    expect(res.stderr).not.toContain('error')
    expect(res.code).toBe(0)
    const name = defaultBundleName('portraits')
    expect(res.stdout).toContain(`Export complete: ${join(root, name)}`)
    expect(res.stdout).toContain('• 2 workflows')
    expect(res.stdout).toContain('• 3 custom nodes (1 development, 2 registry/git)')
    expect(listArchive(join(root, name))).toContain('manifest.json')
  })

  it('prints a JSON result with --json and a clear error for uncommitted work', async () => {
    const root = makeTempDir('export-cli')
    const { env } = await makeEnvOnDisk(join(root, 'ws'), SPEC)
    const ok = runCli(['-e', 'portraits', '--json', 'export', join(root, 'p.tar.gz')], { workspace: join(root, 'ws') })
    expect(ok.code).toBe(0)
    expect(ok.json()).toMatchObject({ path: join(root, 'p.tar.gz'), summary: { environment: 'portraits' } })
    writeFileSync(env.pyproject, readFileSync(env.pyproject, 'utf8') + '\n# edit\n')
    const bad = runCli(['-e', 'portraits', 'export', join(root, 'q.tar.gz')], { workspace: join(root, 'ws') })
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('error[UNCOMMITTED_CHANGES]')
    expect(bad.stderr).toContain('hint: Commit first')
  })
})
