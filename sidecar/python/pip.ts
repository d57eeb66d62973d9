/**
 * @module The venv + pip backend: `python -m venv`, `pip install -r` of the manifest's requirements.
 * pip honours PIP_INDEX_URL / PIP_FIND_LINKS / PIP_NO_INDEX from the environment, so offline mirrors work.
 * pip only adds and upgrades; it never removes packages the manifest no longer names.
 */
import { mkdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { ComfydockError } from '../errors'
import { run } from '../exec'
import { pathExists, withTempDir } from '../fs'
import type { Pyproject } from '../manifest'
import { startTask } from '../progress'
import type { OnProgress } from '../protocol'
import { venvPython, type EnvPaths, type Workspace } from '../workspace'
import { conflictLines, type PythonBackend } from './backend'
import { torchIndexUrl, type EnvLocalSettings } from './local-settings'
import { manifestRequirements, normalizePackageName } from './requirements'

const SYNC_HINT = 'Check the requirement and your package index (PIP_INDEX_URL / PIP_FIND_LINKS), then run `comfydock status`.'

export class PipBackend implements PythonBackend {
  readonly kind = 'pip' as const

  constructor (
    private readonly ws: Workspace,
    private readonly env: EnvPaths,
    private readonly settings: EnvLocalSettings,
  ) {}

  private get python (): string { return venvPython(this.env.venv) }

  private pipEnv (): NodeJS.ProcessEnv {
    return { ...process.env, PIP_CACHE_DIR: this.ws.cache.pip, PIP_DISABLE_PIP_VERSION_CHECK: '1', PYTHONNOUSERSITE: '1' }
  }

  /** Index options from the machine-local settings. */
  private indexArgs (): string[] {
    const s = this.settings
    const args: string[] = []
    if (s.index_url) args.push('--index-url', s.index_url)
    for (const url of s.extra_index_urls ?? []) args.push('--extra-index-url', url)
    const torch = torchIndexUrl(s.torch_backend)
    if (torch) args.push('--extra-index-url', torch)
    for (const dir of s.find_links ?? []) args.push('--find-links', dir)
    return args
  }

  async ensureVenv (opts: { onProgress?: OnProgress, signal?: AbortSignal } = {}): Promise<void> {
    if (await pathExists(this.python)) return
    const task = startTask(opts.onProgress, 'create Python venv')
    const base = this.settings.python ?? 'python3'
    const args = ['-m', 'venv', ...(this.settings.system_site_packages ? ['--system-site-packages'] : []), this.env.venv]
    try {
      await run(base, args, { signal: opts.signal, hint: `Make sure ${base} has the venv module (Debian: \`apt-get install python3-venv\`).` })
    } catch (err) {
      task.end('failed')
      await rm(this.env.venv, { recursive: true, force: true })
      if (err instanceof ComfydockError && err.code === 'COMMAND_NOT_FOUND') {
        throw new ComfydockError('PYTHON_NOT_FOUND', `Python interpreter "${base}" not found`, { hint: 'Pass `--python-path` to `comfydock create`.', cause: err })
      }
      throw new ComfydockError('PYTHON_SYNC_FAILED', `could not create the venv at ${this.env.venv}: ${(err as Error).message}`, { hint: (err as ComfydockError).hint, cause: err })
    }
    task.end('ok')
  }

  /** Runs `pip install <extra> -r <requirements of doc>`. */
  private async pipInstall (doc: Pyproject, extra: string[], opts: { onLine?: (line: string) => void, signal?: AbortSignal, allowFailure?: boolean } = {}) {
    // Requirements go on the command line (not -r FILE) so pip's errors quote them, not "line 2".
    const reqs = manifestRequirements(doc)
    return run(this.python, ['-m', 'pip', 'install', ...extra, ...this.indexArgs(), '--', ...reqs], {
      env: this.pipEnv(), signal: opts.signal, allowFailure: opts.allowFailure, onLine: opts.onLine ? l => opts.onLine!(l) : undefined,
    })
  }

  async sync (doc: Pyproject, opts: { onProgress?: OnProgress, signal?: AbortSignal } = {}): Promise<void> {
    await this.ensureVenv(opts)
    const reqs = manifestRequirements(doc)
    const task = startTask(opts.onProgress, `install ${reqs.length} Python requirement${reqs.length === 1 ? '' : 's'}`)
    if (reqs.length === 0) { task.end('skipped'); return }
    await mkdir(this.ws.cache.pip, { recursive: true })
    const res = await this.pipInstall(doc, [], {
      signal: opts.signal,
      allowFailure: true,
      onLine: line => {
        const m = /^(Collecting|Requirement already satisfied:|Successfully installed)\s*(.*)$/.exec(line.trim())
        if (m) task.advance(0, `${m[1].replace(/:$/, '')} ${m[2].split(' ')[0]}`)
      },
    })
    if (res.code !== 0) {
      task.end('failed')
      const lines = conflictLines(res.stderr + '\n' + res.stdout)
      const detail = lines.length ? lines.join('\n') : (res.stderr.trim() || res.stdout.trim()).split('\n').slice(-8).join('\n')
      throw new ComfydockError('PYTHON_SYNC_FAILED', `pip could not install the environment's requirements:\n${detail}`, { hint: SYNC_HINT })
    }
    task.end('ok')
  }

  async check (doc: Pyproject): Promise<void> {
    // Nothing to resolve; pip would refuse an empty install ("You must give at least one requirement").
    if (manifestRequirements(doc).length === 0) return
    await this.ensureVenv()
    const res = await this.pipInstall(doc, ['--dry-run'], { allowFailure: true })
    if (res.code === 0) return
    const lines = conflictLines(res.stderr + '\n' + res.stdout)
    throw new ComfydockError('DEPENDENCY_CONFLICT', `the requirements cannot be installed together:\n${(lines.length ? lines : res.stderr.trim().split('\n').slice(-6)).join('\n')}`, {
      hint: 'Change or remove the conflicting requirement, then try again.',
    })
  }

  async installed (): Promise<Record<string, string>> {
    if (!(await pathExists(this.python))) return {}
    const res = await run(this.python, ['-m', 'pip', 'list', '--format=json'], { env: this.pipEnv() })
    const list = JSON.parse(res.stdout) as Array<{ name: string, version: string }>
    return Object.fromEntries(list.map(p => [normalizePackageName(p.name), p.version]))
  }

  async pending (doc: Pyproject): Promise<string[]> {
    if (!(await pathExists(this.python))) return manifestRequirements(doc)
    if (manifestRequirements(doc).length === 0) return []
    return withTempDir('comfydock-report', async dir => {
      const report = join(dir, 'report.json')
      const res = await this.pipInstall(doc, ['--dry-run', '--quiet', '--report', report], { allowFailure: true })
      if (res.code !== 0) {
        const lines = conflictLines(res.stderr)
        throw new ComfydockError('PYTHON_SYNC_FAILED', `cannot tell whether the venv matches the manifest:\n${(lines.length ? lines : res.stderr.trim().split('\n').slice(-4)).join('\n')}`, { hint: SYNC_HINT })
      }
      const data = JSON.parse(await readFile(report, 'utf8')) as { install?: Array<{ metadata: { name: string, version: string } }> }
      return (data.install ?? []).map(i => `${normalizePackageName(i.metadata.name)}==${i.metadata.version}`)
    })
  }
}
