/**
 * @module Where everything lives on disk. The only place that spells out folder names.
 *
 * <workspace>/
 *   .metadata/workspace.json     versioned settings, active environment
 *   .metadata/credentials.json   tokens (mode 0600, never git-tracked)
 *   .metadata/models.db          the model index (user data: hashes and sources)
 *   environments/<name>/         one environment each (see EnvPaths), only ever complete ones
 *   environments/.creating-<pid>-<name>-XXXXXX  an environment being built (renamed to <name> when complete)
 *   environments/.bundle-<pid>-XXXXXX           a bundle being extracted for import
 *   cache/                       re-creatable: ComfyUI clones, node archives, registry answers, pip/uv caches
 *   logs/
 *   exports/                     bundles exported from the panel, served at /downloads/
 *   models/                      default models directory
 */
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { safeChild } from '../fs'

export const WORKSPACE_FORMAT_VERSION = 1

export interface WorkspacePaths {
  root: string
  metadata: string
  workspaceFile: string
  credentialsFile: string
  modelIndexDb: string
  environments: string
  cache: string
  logs: string
  /** Bundles `env.export` writes for the panel to download. */
  exports: string
  defaultModels: string
}

export function workspacePaths (root: string): WorkspacePaths {
  const r = resolve(root)
  return {
    root: r,
    metadata: join(r, '.metadata'),
    workspaceFile: join(r, '.metadata', 'workspace.json'),
    credentialsFile: join(r, '.metadata', 'credentials.json'),
    modelIndexDb: join(r, '.metadata', 'models.db'),
    environments: join(r, 'environments'),
    cache: join(r, 'cache'),
    logs: join(r, 'logs'),
    exports: join(r, 'exports'),
    defaultModels: join(r, 'models'),
  }
}

/** Cache sub-folders; versioned names so a format change never misreads old data. */
export function cachePaths (root: string) {
  const cache = workspacePaths(root).cache
  return {
    comfyui: join(cache, 'comfyui-v1'),
    nodes: join(cache, 'nodes-v1'),
    registryDb: join(cache, 'registry-v1.db'),
    workflowsDb: join(cache, 'workflows-v1.db'),
    uv: join(cache, 'uv'),
    pip: join(cache, 'pip'),
    downloads: join(cache, 'downloads'),
  }
}

export interface EnvPaths {
  name: string
  root: string
  cec: string
  pyproject: string
  pythonVersionFile: string
  cecWorkflows: string
  cecGitignore: string
  /** Git-ignored, machine-local settings (torch backend, interpreter, indexes). Never shared. */
  localSettings: string
  /** Written last by create/import; an environment without it is half-made. */
  completeMarker: string
  uvLock: string
  venv: string
  comfyui: string
  customNodes: string
  userWorkflows: string
  /**
   * Tracked workflows whose current content lives in a browser tab, not in userWorkflows (committed from the
   * panel of another ComfyUI, or from an unsaved tab). Machine-local, so outside .cec.
   */
  browserWorkflows: string
  extraModelPaths: string
}

export function envPaths (workspaceRoot: string, name: string): EnvPaths {
  return envPathsAt(join(workspacePaths(workspaceRoot).environments, name), name)
}

/** The layout of environment `name` in folder `root` (create builds it in a hidden folder first). */
export function envPathsAt (root: string, name: string): EnvPaths {
  const cec = join(root, '.cec')
  const comfyui = join(root, 'ComfyUI')
  return {
    name,
    root,
    cec,
    pyproject: join(cec, 'pyproject.toml'),
    pythonVersionFile: join(cec, '.python-version'),
    cecWorkflows: join(cec, 'workflows'),
    cecGitignore: join(cec, '.gitignore'),
    localSettings: join(cec, 'local.json'),
    completeMarker: join(cec, '.complete'),
    uvLock: join(cec, 'uv.lock'),
    venv: join(root, '.venv'),
    comfyui,
    customNodes: join(comfyui, 'custom_nodes'),
    userWorkflows: join(comfyui, 'user', 'default', 'workflows'),
    browserWorkflows: join(root, '.browser-workflows.json'),
    extraModelPaths: join(comfyui, 'extra_model_paths.yaml'),
  }
}

/**
 * A pack's folder in custom_nodes. Every caller goes through here, never a raw join: the name comes from
 * a manifest, a registry answer or a bundle, so it must be one safe folder name (checked by the schema
 * already; again here, where it becomes a path).
 */
export function packDir (env: EnvPaths, name: string): string {
  return safeChild(env.customNodes, name, 'pack folder')
}

/** The interpreter inside a venv, per platform. */
export function venvPython (venv: string): string {
  return process.platform === 'win32' ? join(venv, 'Scripts', 'python.exe') : join(venv, 'bin', 'python')
}

/** --workspace, then COMFYDOCK_HOME, then ~/comfydock. */
export function defaultWorkspaceRoot (explicit?: string): string {
  if (explicit) return resolve(explicit)
  if (process.env.COMFYDOCK_HOME) return resolve(process.env.COMFYDOCK_HOME)
  return join(homedir(), 'comfydock')
}
