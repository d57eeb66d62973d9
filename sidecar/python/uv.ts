/**
 * @module The uv backend: `uv venv`, `uv sync --all-groups` against `.cec/pyproject.toml` with
 * UV_PROJECT_ENVIRONMENT pointing at the environment's `.venv` and a workspace-wide uv cache.
 * `uv.lock` stays in `.cec/`. A manifest that is not (yet) the one on disk is synced from a temp
 * copy of the project, so callers can try a change before writing it.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ComfydockError } from '../errors'
import { run } from '../exec'
import { pathExists, withTempDir } from '../fs'
import { serializeManifest, type Pyproject } from '../manifest'
import { startTask } from '../progress'
import type { OnProgress } from '../protocol'
import { venvPython, type EnvPaths, type Workspace } from '../workspace'
import { conflictLines, type PythonBackend } from './backend'
import { torchIndexUrl, type EnvLocalSettings } from './local-settings'
import { normalizePackageName } from './requirements'

export class UvBackend implements PythonBackend {
  readonly kind = 'uv' as const

  constructor (
    private readonly ws: Workspace,
    private readonly env: EnvPaths,
    private readonly settings: EnvLocalSettings,
    private readonly uv = 'uv',
  ) {}

  private uvEnv (): NodeJS.ProcessEnv {
    const s = this.settings
    const extra = [...(s.extra_index_urls ?? [])]
    const torch = torchIndexUrl(s.torch_backend)
    if (torch) extra.unshift(torch)
    return {
      ...process.env,
      UV_PROJECT_ENVIRONMENT: this.env.venv,
      UV_CACHE_DIR: this.ws.cache.uv,
      UV_NO_PROGRESS: '1',
      NO_COLOR: '1',
      VIRTUAL_ENV: '',
      ...(s.index_url ? { UV_DEFAULT_INDEX: s.index_url } : {}),
      ...(extra.length ? { UV_INDEX: extra.join(' ') } : {}),
      ...(s.find_links?.length ? { UV_FIND_LINKS: s.find_links.join(',') } : {}),
      ...(s.python ? { UV_PYTHON: s.python } : {}),
    }
  }

  /** Runs uv in the project folder of `doc`: `.cec` when `doc` is what is on disk, else a temp copy. */
  private async inProject<T> (doc: Pyproject, fn: (dir: string) => Promise<T>): Promise<T> {
    const text = serializeManifest(doc)
    const onDisk = await readFile(this.env.pyproject, 'utf8').catch(() => '')
    if (onDisk === text) return fn(this.env.cec)
    return withTempDir('comfydock-uv', async dir => {
      await writeFile(join(dir, 'pyproject.toml'), text)
      if (await pathExists(this.env.uvLock)) await copyFile(this.env.uvLock, join(dir, 'uv.lock'))
      if (await pathExists(this.env.pythonVersionFile)) await copyFile(this.env.pythonVersionFile, join(dir, '.python-version'))
      return fn(dir)
    })
  }

  async ensureVenv (opts: { onProgress?: OnProgress, signal?: AbortSignal } = {}): Promise<void> {
    if (await pathExists(venvPython(this.env.venv))) return
    const task = startTask(opts.onProgress, 'create Python venv (uv)')
    const python = this.settings.python ?? this.settings.python_version
    const args = ['venv', this.env.venv, '--seed', ...(python ? ['--python', python] : []), ...(this.settings.system_site_packages ? ['--system-site-packages'] : [])]
    try {
      await mkdir(this.ws.cache.uv, { recursive: true })
      await run(this.uv, args, { env: this.uvEnv(), signal: opts.signal })
    } catch (err) {
      task.end('failed')
      throw new ComfydockError('PYTHON_SYNC_FAILED', `uv could not create the venv at ${this.env.venv}: ${(err as Error).message}`, { cause: err })
    }
    task.end('ok')
  }

  async sync (doc: Pyproject, opts: { onProgress?: OnProgress, signal?: AbortSignal } = {}): Promise<void> {
    await this.ensureVenv(opts)
    const task = startTask(opts.onProgress, 'uv sync')
    const res = await this.inProject(doc, dir => run(this.uv, ['sync', '--all-groups'], {
      cwd: dir, env: this.uvEnv(), signal: opts.signal, allowFailure: true, onLine: line => task.advance(0, line.trim()),
    }))
    if (res.code !== 0) {
      task.end('failed')
      const lines = conflictLines(res.stderr)
      throw new ComfydockError('PYTHON_SYNC_FAILED', `uv sync failed:\n${(lines.length ? lines : res.stderr.trim().split('\n').slice(-8)).join('\n')}`, {
        hint: 'Check the requirement and your package index, then run `comfydock status`.',
      })
    }
    task.end('ok')
  }

  async check (doc: Pyproject): Promise<void> {
    const res = await this.inProject(doc, dir => run(this.uv, ['sync', '--all-groups', '--dry-run'], { cwd: dir, env: this.uvEnv(), allowFailure: true }))
    if (res.code === 0) return
    const lines = conflictLines(res.stderr)
    throw new ComfydockError('DEPENDENCY_CONFLICT', `the requirements cannot be installed together:\n${(lines.length ? lines : res.stderr.trim().split('\n').slice(-6)).join('\n')}`, {
      hint: 'Change or remove the conflicting requirement, then try again.',
    })
  }

  async installed (): Promise<Record<string, string>> {
    const python = venvPython(this.env.venv)
    if (!(await pathExists(python))) return {}
    const res = await run(this.uv, ['pip', 'list', '--python', python, '--format', 'json'], { env: this.uvEnv() })
    const list = JSON.parse(res.stdout) as Array<{ name: string, version: string }>
    return Object.fromEntries(list.map(p => [normalizePackageName(p.name), p.version]))
  }

  async pending (doc: Pyproject): Promise<string[]> {
    const res = await this.inProject(doc, dir => run(this.uv, ['sync', '--all-groups', '--dry-run'], { cwd: dir, env: this.uvEnv(), allowFailure: true }))
    if (res.code !== 0) {
      throw new ComfydockError('PYTHON_SYNC_FAILED', `cannot tell whether the venv matches the manifest:\n${res.stderr.trim().split('\n').slice(-4).join('\n')}`)
    }
    // uv prints planned changes as " + name==1.0", " - name==0.9", " ~ name==1.0".
    return (res.stderr + '\n' + res.stdout).split('\n').map(l => /^\s*[+~-]\s+(\S+)/.exec(l)?.[1]).filter((x): x is string => Boolean(x))
  }
}
