/**
 * @module The workspace: its settings file, its environments and which one is active.
 * Every write of workspace.json is atomic.
 */
import { mkdir, readdir, stat } from 'node:fs/promises'
import { delimiter, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ComfydockError } from '../errors'
import { z } from 'zod'
import { isInside, pathComponentProblem, pathExists, readSmallFile, writeJsonAtomic } from '../fs'
import { gitUrlKind, type RemoteUrlPolicy } from '../git'
import {
  DEFAULT_CONFIG, WORKSPACE_SETTINGS, findSetting, readCredentials, writeCredentials,
  type Credentials, type PlainConfigKey, type SettingSpec,
} from './config'
import { WORKSPACE_FORMAT_VERSION, cachePaths, defaultWorkspaceRoot, envPaths, workspacePaths, type EnvPaths, type WorkspacePaths } from './layout'

/** workspace.json; keys a newer comfydock adds are kept. */
const workspaceFileSchema = z.object({
  version: z.number().int().positive(),
  created_at: z.string().default(''),
  active_environment: z.string().nullable().default(null),
  config: z.record(z.string()).default({}),
}).passthrough()

export interface WorkspaceFile {
  version: number
  created_at: string
  active_environment: string | null
  /** Plain settings: the workspace's own and those other concerns declare (model hosts…). */
  config: Record<string, string>
  [key: string]: unknown
}

export type WorkspaceConfig = Record<PlainConfigKey, string>

export interface EnvironmentEntry {
  name: string
  path: string
  active: boolean
  /** False for a half-made environment (no completion marker). */
  complete: boolean
}

const RESERVED_ENV_NAMES = new Set(['workspace', 'logs', 'models', 'cache', '.metadata', 'environments'])

export function validateEnvName (name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name) || RESERVED_ENV_NAMES.has(name) || name.includes('..') || pathComponentProblem(name)) {
    throw new ComfydockError('ENV_INVALID_NAME', `"${name}" is not a valid environment name`, {
      hint: 'Use letters, digits, ".", "_" and "-" (up to 64 characters), starting with a letter or digit.',
    })
  }
}

/** A folder under the environment's name that an interrupted create or import (of an older version) left. */
export function envIncomplete (name: string, root: string): ComfydockError {
  return new ComfydockError('ENV_INCOMPLETE', `environment "${name}" is incomplete: an interrupted create or import left its folder ${root}`, {
    hint: `Remove it with \`comfydock delete ${name}\`, then create or import it again.`,
  })
}

/** The folder a local git source names (a path or a file:// URL), or undefined for a network URL. */
function localPathOf (url: string): string | undefined {
  if (!url) return undefined
  const r = gitUrlKind(url)
  if (!('kind' in r)) return undefined
  try {
    if (r.kind === 'file') return fileURLToPath(url)
    if (r.kind === 'local') return resolve(url)
  } catch { /* file://host/… is not a local path */ }
  return undefined
}

export class Workspace {
  readonly paths: WorkspacePaths
  private file: WorkspaceFile

  private constructor (paths: WorkspacePaths, file: WorkspaceFile) {
    this.paths = paths
    this.file = file
  }

  get root (): string { return this.paths.root }
  get cache () { return cachePaths(this.paths.root) }

  /** Opens an existing workspace; the hint says how to make one. */
  static async open (root?: string): Promise<Workspace> {
    const paths = workspacePaths(defaultWorkspaceRoot(root))
    let text: string
    try {
      text = readSmallFile(paths.workspaceFile, 'utf8')
    } catch {
      throw new ComfydockError('WORKSPACE_NOT_FOUND', `no comfydock workspace at ${paths.root}`, {
        hint: `Run \`comfydock init ${paths.root}\`, or point --workspace / COMFYDOCK_HOME at an existing one.`,
      })
    }
    let raw: unknown
    try {
      raw = JSON.parse(text)
    } catch (err) {
      throw new ComfydockError('WORKSPACE_INVALID', `${paths.workspaceFile} is not valid JSON: ${(err as Error).message}`, { cause: err })
    }
    const version = (raw as { version?: unknown } | null)?.version
    if (typeof version === 'number' && version > WORKSPACE_FORMAT_VERSION) {
      throw new ComfydockError('WORKSPACE_INVALID', `${paths.workspaceFile} has format version ${version}, this comfydock reads up to ${WORKSPACE_FORMAT_VERSION}`, {
        hint: 'Upgrade comfydock (`npm install -g comfydock@latest`).',
      })
    }
    const parsed = workspaceFileSchema.safeParse(raw)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      throw new ComfydockError('WORKSPACE_INVALID', `${paths.workspaceFile}: ${issue.path.join('.') || '(root)'}: ${issue.message}`, {
        hint: `Fix the file by hand (it holds the settings shown by \`comfydock config --show\`), or move it away and run \`comfydock init ${paths.root}\`.`,
      })
    }
    const file = parsed.data as WorkspaceFile
    return new Workspace(paths, file)
  }

  /** Creates the workspace, or completes an existing one. Refuses a non-empty folder that is not a workspace. */
  static async init (root?: string, opts: { modelsDir?: string } = {}): Promise<{ workspace: Workspace, created: boolean }> {
    const paths = workspacePaths(defaultWorkspaceRoot(root))
    let created = false
    if (!(await pathExists(paths.workspaceFile))) {
      if (await pathExists(paths.root)) {
        const s = await stat(paths.root)
        if (!s.isDirectory()) {
          throw new ComfydockError('WORKSPACE_FOREIGN_DIR', `${paths.root} exists and is not a folder`, { hint: 'Choose another path: `comfydock init <path>`.' })
        }
        const entries = await readdir(paths.root)
        if (entries.length > 0) {
          throw new ComfydockError('WORKSPACE_FOREIGN_DIR', `${paths.root} is not empty and is not a comfydock workspace (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''})`, {
            hint: 'Choose an empty or new folder: `comfydock init <path>`.',
          })
        }
      }
      await mkdir(paths.metadata, { recursive: true })
      const file: WorkspaceFile = {
        version: WORKSPACE_FORMAT_VERSION,
        created_at: new Date().toISOString(),
        active_environment: null,
        config: opts.modelsDir ? { models_dir: opts.modelsDir } : {},
      }
      await writeJsonAtomic(paths.workspaceFile, file)
      created = true
    }
    for (const dir of [paths.environments, paths.cache, paths.logs, paths.defaultModels]) await mkdir(dir, { recursive: true })
    const workspace = await Workspace.open(paths.root)
    if (!created && opts.modelsDir) await workspace.setConfig('models_dir', opts.modelsDir)
    return { workspace, created }
  }

  private async save (): Promise<void> {
    await writeJsonAtomic(this.paths.workspaceFile, this.file)
  }

  config (): WorkspaceConfig {
    return { ...DEFAULT_CONFIG, ...this.file.config }
  }

  async credentials (): Promise<Credentials> {
    return readCredentials(this.paths.credentialsFile)
  }

  async secret (key: string): Promise<string | undefined> {
    return (await this.credentials())[key] || undefined
  }

  /** A setting's value, or its default when unset (credentials from credentials.json). */
  async setting (spec: SettingSpec): Promise<string> {
    const value = spec.secret ? (await this.credentials())[spec.key] : this.file.config[spec.key]
    return value || spec.default
  }

  /**
   * Sets a key of `catalog` (default: the workspace's own settings); an empty value resets it to its
   * default (or clears a credential). Unknown keys are refused with the list of known ones.
   */
  async setConfig (key: string, value: string, catalog: readonly SettingSpec[] = WORKSPACE_SETTINGS): Promise<void> {
    const spec = findSetting(key, catalog)
    if (value) spec.check?.(value)
    if (spec.secret) {
      const creds = await this.credentials()
      if (value) creds[key] = value
      else delete creds[key]
      await writeCredentials(this.paths.credentialsFile, creds)
      return
    }
    if (value) this.file.config[key] = value
    else delete this.file.config[key]
    await this.save()
  }

  async getConfig (key: string, catalog: readonly SettingSpec[] = WORKSPACE_SETTINGS): Promise<string> {
    return this.setting(findSetting(key, catalog))
  }

  /**
   * Where git may read a local path or file:// URL from: the configured ComfyUI source and the folders in
   * `trusted_local_sources` (paths given to `node add` are added there). A manifest or bundle naming any
   * other local repository is refused: it could pull the user's private repositories into a pack folder.
   */
  localSourcePolicy (): RemoteUrlPolicy {
    return { allowLocal: url => this.trustsLocalSource(url) }
  }

  trustsLocalSource (url: string): boolean {
    const path = localPathOf(url)
    if (!path) return false
    const cfg = this.config()
    const roots = [cfg.comfyui_source, ...cfg.trusted_local_sources.split(delimiter)].map(localPathOf).filter((p): p is string => Boolean(p))
    return roots.some(root => isInside(root, path))
  }

  /** Records a local repository the user named (`node add <path>`), so later updates and repairs of it may read it. */
  async trustLocalSource (url: string): Promise<void> {
    const path = localPathOf(url)
    if (!path || this.trustsLocalSource(url)) return
    const list = this.config().trusted_local_sources.split(delimiter).filter(Boolean)
    await this.setConfig('trusted_local_sources', [...list, path].join(delimiter))
  }

  /** The models directory in use: the configured one, or <workspace>/models. */
  get modelsDir (): string {
    return this.config().models_dir || this.paths.defaultModels
  }

  get activeEnvironment (): string | null {
    return this.file.active_environment
  }

  async setActive (name: string | null): Promise<void> {
    if (name !== null) await this.requireEnv(name)
    this.file.active_environment = name
    await this.save()
  }

  env (name: string): EnvPaths {
    validateEnvName(name)
    return envPaths(this.paths.root, name)
  }

  async listEnvironments (): Promise<EnvironmentEntry[]> {
    let names: string[] = []
    try {
      names = (await readdir(this.paths.environments, { withFileTypes: true })).filter(d => d.isDirectory()).map(d => d.name).sort()
    } catch { /* no environments folder yet */ }
    const out: EnvironmentEntry[] = []
    for (const name of names) {
      // hidden: an environment being built, or a bundle being extracted (see layout.ts)
      if (name.startsWith('.')) continue
      const p = envPaths(this.paths.root, name)
      // A folder without pyproject.toml is a leftover (an older version's interrupted import): listed
      // as incomplete, so `list` and the name check agree and `delete` can remove it.
      if (!(await pathExists(p.pyproject))) {
        out.push({ name, path: p.root, active: name === this.file.active_environment, complete: false })
        continue
      }
      out.push({ name, path: p.root, active: name === this.file.active_environment, complete: await pathExists(p.completeMarker) })
    }
    return out
  }

  /** The environment's paths, or ENV_NOT_FOUND naming the ones that exist. */
  async requireEnv (name: string): Promise<EnvPaths> {
    const p = this.env(name)
    if (!(await pathExists(p.pyproject))) {
      if (await pathExists(p.root)) throw envIncomplete(name, p.root)
      const known = (await this.listEnvironments()).map(e => e.name)
      throw new ComfydockError('ENV_NOT_FOUND', `environment "${name}" does not exist${known.length ? ` (have: ${known.join(', ')})` : ''}`, {
        hint: known.length ? 'Run `comfydock list` to see environments.' : `Run \`comfydock create ${name}\`.`,
      })
    }
    return p
  }

  /** `-e NAME` when given, else the active environment. */
  async resolveEnv (name?: string): Promise<EnvPaths> {
    if (name) return this.requireEnv(name)
    const active = this.file.active_environment
    if (!active) {
      throw new ComfydockError('ENV_NO_ACTIVE', 'no environment selected and none is active', {
        hint: 'Pass `-e NAME`, or run `comfydock use NAME` (see `comfydock list`).',
      })
    }
    return this.requireEnv(active)
  }

  logFile (envName?: string): string {
    return join(this.paths.logs, envName ?? 'workspace', 'full.log')
  }
}
