/**
 * Global setup of the real-ComfyUI suite: everything a user would have before `comfydock run`, made
 * once per run, with downloads cached between local runs (test/.cache/real-comfyui, or
 * $COMFYDOCK_REAL_CACHE):
 * - ComfyUI v0.3.7 and v0.3.77 as git repositories with their tags, made from the source archives in
 *   fixtures/ (the workspace's `comfyui_source`, as a clone of GitHub would be);
 * - the pinned frontends from PyPI (`pip download --no-deps comfyui-frontend-package==X`), unpacked;
 * - a fresh workspace with two environments made by `comfydock create` on Debian's Python and torch
 *   (`--python-path /usr/bin/python3 --system-site-packages`), their other packages real ones from PyPI.
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { pathWithoutUv } from '../../support/venv'

/** The repository: the nearest folder up with comfydock's package.json (this file also runs bundled, from .bench/). */
function findRepo (from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'test', 'real-comfyui', 'frontends.json'))) return dir
    if (dirname(dir) === dir) throw new Error(`no comfydock repository above ${from}`)
  }
}

export const REPO = findRepo(import.meta.dirname)
const HERE = join(REPO, 'test', 'real-comfyui')
export const CACHE = process.env.COMFYDOCK_REAL_CACHE ?? join(REPO, 'test', '.cache', 'real-comfyui')
export const SYSTEM_PYTHON = process.env.COMFYDOCK_REAL_PYTHON ?? '/usr/bin/python3'
const CLI = join(REPO, 'dist', 'cli.js')

export interface FrontendPin {
  version: string
  from: 'bundled' | 'pypi'
  backend: 'v0.3.7' | 'v0.3.77'
  /** The core menu that holds Open/Save in that release. */
  fileMenu: 'File' | 'Workflow'
  newest?: boolean
  why: string
}

export function frontendPins (): FrontendPin[] {
  const only = process.env.COMFYDOCK_REAL_FRONTENDS?.split(',').map(s => s.trim()).filter(Boolean)
  const all = allFrontendPins()
  return only?.length ? all.filter(f => only.includes(f.version)) : all
}

export function allFrontendPins (): FrontendPin[] {
  return (JSON.parse(readFileSync(join(HERE, 'frontends.json'), 'utf8')) as { frontends: FrontendPin[] }).frontends
}

/** What the tests get (vitest `inject('realComfyui')`). */
export interface RealSetup {
  workspace: string
  /** Environment per backend tag; the first one (v0.3.7) is the active environment. */
  envs: Record<string, string>
  /** Frontend version -> folder for --front-end-root (absent for the bundled one). */
  frontendRoots: Record<string, string>
  /** PYTHONPATH entry with the suite's only stub (see python/sitecustomize.py). */
  pythonPath: string
  /** torch==<version> for PIP_CONSTRAINT / UV_CONSTRAINT. */
  constraints: string
}

declare module 'vitest' {
  export interface ProvidedContext {
    realComfyui: RealSetup
  }
}

function sh (cmd: string, args: string[], opts: { cwd?: string, env?: NodeJS.ProcessEnv } = {}): string {
  return execFileSync(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 })
}

function log (line: string): void {
  process.stderr.write(`[real-comfyui] ${line}\n`)
}

/** A git repository of one ComfyUI source archive, tagged like upstream (cached by archive hash). */
function sourceRepo (tag: string): string {
  const archive = join(HERE, 'fixtures', `ComfyUI-${tag}.tar.gz`)
  const hash = createHash('sha256').update(readFileSync(archive)).digest('hex').slice(0, 16)
  const dir = join(CACHE, 'sources', `${tag}-${hash}`)
  if (existsSync(join(dir, '.git', 'comfydock-ready'))) return dir
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  sh('tar', ['-xzf', archive, '-C', dir, '--strip-components=1'])
  const env = { GIT_AUTHOR_DATE: '2025-01-01T00:00:00Z', GIT_COMMITTER_DATE: '2025-01-01T00:00:00Z', GIT_AUTHOR_NAME: 'ComfyUI archive', GIT_AUTHOR_EMAIL: 'archive@invalid', GIT_COMMITTER_NAME: 'ComfyUI archive', GIT_COMMITTER_EMAIL: 'archive@invalid' }
  sh('git', ['init', '-q', '-b', 'master'], { cwd: dir })
  sh('git', ['add', '-A'], { cwd: dir, env })
  sh('git', ['commit', '-q', '-m', `ComfyUI ${tag} (source archive)`], { cwd: dir, env })
  sh('git', ['tag', tag], { cwd: dir, env })
  writeFileSync(join(dir, '.git', 'comfydock-ready'), '')
  log(`made ${dir} from ${archive}`)
  return dir
}

/** One frontend release from PyPI, unpacked; returns its static folder. */
function frontendFromPypi (version: string): string {
  const dir = join(CACHE, 'frontends', version)
  const root = join(dir, 'comfyui_frontend_package', 'static')
  if (existsSync(join(root, 'index.html'))) return root
  const tmp = mkdtempSync(join(CACHE, 'frontends', `.dl-${version}-`))
  try {
    log(`downloading comfyui-frontend-package==${version} from PyPI`)
    sh(SYSTEM_PYTHON, ['-m', 'pip', 'download', '--disable-pip-version-check', '--no-deps', '--only-binary', ':all:', '-d', tmp, `comfyui-frontend-package==${version}`])
    const wheel = readdirSync(tmp).find(f => f.endsWith('.whl'))
    if (!wheel) throw new Error(`pip downloaded no wheel for comfyui-frontend-package==${version}`)
    const out = join(tmp, 'unpacked')
    sh(SYSTEM_PYTHON, ['-m', 'zipfile', '-e', join(tmp, wheel), out])
    rmSync(dir, { recursive: true, force: true })
    renameSync(out, dir)
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
  return root
}

function cli (workspace: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  return sh(process.execPath, [CLI, '--workspace', workspace, ...args], { env: { NO_COLOR: '1', ...env } })
}

export default function setup (project: TestProject): () => void {
  const { real, cleanup } = prepareRealComfyui(frontendPins())
  project.provide('realComfyui', real)
  return cleanup
}

/** Builds comfydock, then makes what `pins` need; `cleanup` removes the workspace (unless kept). */
export function prepareRealComfyui (pins: FrontendPin[]): { real: RealSetup, cleanup: () => void } {
  execFileSync(process.execPath, ['build.mjs'], { cwd: REPO, stdio: 'inherit' })
  mkdirSync(join(CACHE, 'frontends'), { recursive: true })
  const backends = [...new Set(pins.map(p => p.backend))].sort()

  let torch: string
  try {
    torch = sh(SYSTEM_PYTHON, ['-c', 'import torch; print(torch.__version__)']).trim()
  } catch {
    throw new Error(`${SYSTEM_PYTHON} has no torch: install Debian's python3-torch (see .ci/run)`)
  }
  const constraints = join(CACHE, 'constraints.txt')
  writeFileSync(constraints, `torch==${torch}\n`)

  const frontendRoots: Record<string, string> = {}
  for (const pin of pins) if (pin.from === 'pypi') frontendRoots[pin.version] = frontendFromPypi(pin.version)

  // a fresh workspace per run; only pip's download cache is kept between local runs.
  // COMFYDOCK_REAL_REUSE=1 (local iteration only) keeps one workspace and its environments instead.
  const reuse = process.env.COMFYDOCK_REAL_REUSE === '1'
  mkdirSync(join(REPO, 'test', '.tmp'), { recursive: true })
  const workspace = reuse ? join(CACHE, 'workspace') : mkdtempSync(join(REPO, 'test', '.tmp', 'real-comfyui-'))
  mkdirSync(workspace, { recursive: true })
  cli(workspace, ['init'])
  mkdirSync(join(CACHE, 'pip'), { recursive: true })
  mkdirSync(join(workspace, 'cache'), { recursive: true })
  rmSync(join(workspace, 'cache', 'pip'), { recursive: true, force: true })
  symlinkSync(join(CACHE, 'pip'), join(workspace, 'cache', 'pip'))

  const envs: Record<string, string> = {}
  // venv + pip, which resolves ComfyUI's requirements against Debian's torch (PIP_CONSTRAINT); uv leaves the
  // torch family out of its resolution (machine-local), so these environments are made without uv on PATH.
  const pythonEnv = { PIP_CONSTRAINT: constraints, UV_CONSTRAINT: constraints, PATH: pathWithoutUv() }
  for (const tag of backends) {
    cli(workspace, ['config', 'comfyui_source', sourceRepo(tag)])
    const name = `env-${tag.replace(/\W/g, '')}`
    envs[tag] = name
    if (reuse && existsSync(join(workspace, 'environments', name, '.cec', '.complete'))) continue
    if (reuse) rmSync(join(workspace, 'environments', name), { recursive: true, force: true })
    const started = Date.now()
    cli(workspace, ['create', name, '--comfyui', tag, '--python-path', SYSTEM_PYTHON, '--system-site-packages', '--yes'], pythonEnv)
    log(`comfydock create ${name} (ComfyUI ${tag}): ${((Date.now() - started) / 1000).toFixed(0)} s`)
  }
  return {
    real: { workspace, envs, frontendRoots, pythonPath: join(HERE, 'python'), constraints },
    cleanup: () => {
      if (!process.env.KEEP_TMP && !reuse) rmSync(workspace, { recursive: true, force: true })
    },
  }
}
