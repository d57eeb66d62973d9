/**
 * @module `create`: ComfyUI from the configured source (via the per-commit cache), `.cec/` as a git
 * repository holding pyproject.toml, a venv synced to it, models connected by extra_model_paths.yaml,
 * then the `.complete` marker. All of it is built in a hidden work folder that is renamed to the
 * environment's name at the end, so a name only ever shows a complete environment; a run that is
 * killed leaves only the work folder, which the next create or import removes. Any failure removes the
 * half-made environment and says which step failed.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { copyCachedTree, ensureCached, resolveComfyuiRef, writeExtraModelPaths, type ResolvedComfyui } from '../comfyui'
import { ComfydockError } from '../errors'
import { openGit } from '../git'
import { readManifest, type Pyproject } from '../manifest'
import { note, startTask, type Task } from '../progress'
import type { OnProgress } from '../protocol'
import { TORCH_BACKEND_PATTERN, UV_ADVICE, chooseInstaller, findInterpreter, openPythonBackend, writeLocalSettings, type Interpreter, type SyncOutcome } from '../python'
import { envIncomplete, envPathsAt, validateEnvName, type EnvPaths, type Workspace } from '../workspace'
import { pathExists } from '../fs'
import { makeCreatingDir, relocateVenv, removeInterruptedWork } from './interrupted'
import { initialManifest, readComfyuiRequirements, writeCecFiles } from './scaffold'

export interface CreateEnvironmentOptions {
  /** Tag, branch or commit of ComfyUI; default: the newest `v*` tag of the source. */
  comfyui?: string
  /** Python version like "3.11" (looked up on PATH). */
  python?: string
  /** An explicit interpreter; wins over `python`. */
  pythonPath?: string
  systemSitePackages?: boolean
  /** auto | cpu | cuXXX | rocmX | mps; machine-local, stored in .cec/local.json. */
  torchBackend?: string
  /**
   * Start from an existing manifest (import) instead of a fresh one: its comfyui_commit_sha (else
   * comfyui_version) picks ComfyUI unless `comfyui` is given, and its python_version the interpreter
   * unless `python`/`pythonPath` is given. Its dependencies, groups, nodes, workflows and models are kept.
   */
  manifest?: Pyproject
  /**
   * Runs once ComfyUI, `.cec/` and the (empty) venv are in place, before the Python packages are
   * installed and before the first commit (import copies uv.lock and installs nodes and workflows
   * here); the install then follows `.cec/` as it left it. If it throws, the environment is removed.
   */
  beforeCommit?: (env: EnvPaths, ctx: { onProgress?: OnProgress, signal?: AbortSignal }) => Promise<void>
  /** Runs after the Python packages are installed, before the first commit (import: model downloads). */
  afterSync?: (env: EnvPaths, ctx: { onProgress?: OnProgress, signal?: AbortSignal }) => Promise<void>
  /** Default "Initial environment setup". */
  commitMessage?: string
  /** Where to clone ComfyUI from instead of the workspace's comfyui_source (adopt: the user's own clone). */
  comfyuiSource?: string
}

export interface CreateEnvironmentResult {
  name: string
  path: string
  comfyui: ResolvedComfyui
  python: Interpreter
  backend: 'uv' | 'pip'
  /** How the Python packages were installed: from the lock as it was, or resolved afresh (and why). */
  python_lock: SyncOutcome
  /** False when ComfyUI came from the cache without touching the source. */
  cloned: boolean
  active: boolean
  commit: string
}

function checkOptions (opts: CreateEnvironmentOptions): void {
  if (opts.torchBackend && !TORCH_BACKEND_PATTERN.test(opts.torchBackend)) {
    throw new ComfydockError('INVALID_ARGUMENT', `unknown torch backend "${opts.torchBackend}"`, { hint: 'Use auto, cpu, cu118, cu121, cu124, rocm6.1, mps or xpu.' })
  }
}

function nameTaken (name: string, root: string): ComfydockError {
  return new ComfydockError('ENV_EXISTS', `environment "${name}" already exists at ${root}`, {
    hint: `Pick another name, or remove it first with \`comfydock delete ${name}\`.`,
  })
}

/** Refuses a taken name (an incomplete leftover too); removes what killed runs left; makes the work folder. */
async function claimWorkFolder (ws: Workspace, name: string, onProgress?: OnProgress): Promise<EnvPaths> {
  validateEnvName(name)
  await mkdir(ws.paths.environments, { recursive: true })
  const removed = await removeInterruptedWork(ws)
  if (removed.length) note(onProgress, 'info', `removed what an interrupted create or import left: ${removed.join(', ')}`)
  const final = ws.env(name)
  if (await pathExists(final.root)) {
    if (!(await pathExists(final.completeMarker))) throw envIncomplete(name, final.root)
    throw nameTaken(name, final.root)
  }
  return envPathsAt(await makeCreatingDir(ws, name), name)
}

/**
 * The interpreter asked for; for an imported manifest its python_version is preferred, but another
 * local Python is used (with a warning) rather than refusing the import.
 */
async function pickInterpreter (opts: CreateEnvironmentOptions, manifestVersion: string | undefined, task?: Task): Promise<Interpreter> {
  if (opts.pythonPath || opts.python || !manifestVersion) return findInterpreter({ path: opts.pythonPath, version: opts.python })
  try {
    return await findInterpreter({ version: manifestVersion })
  } catch (err) {
    if (!(err instanceof ComfydockError) || err.code !== 'PYTHON_NOT_FOUND') throw err
    const fallback = await findInterpreter()
    task?.note('warn', `the manifest asks for Python ${manifestVersion}, which is not installed; using Python ${fallback.version} (${fallback.path})`)
    return fallback
  }
}

/** Names the failed step in the error and keeps its code (COMFYUI_REF_NOT_FOUND, PYTHON_SYNC_FAILED, ...). */
function stepFailed (name: string, step: string, err: unknown): ComfydockError {
  if (err instanceof ComfydockError) {
    return new ComfydockError(err.code, `creating environment "${name}" failed while ${step}: ${err.message}\n(the half-made environment was removed)`, { hint: err.hint, cause: err })
  }
  return new ComfydockError('ENV_CREATE_FAILED', `creating environment "${name}" failed while ${step}: ${(err as Error)?.message ?? String(err)}\n(the half-made environment was removed)`, { cause: err })
}

export async function createEnvironment (
  ws: Workspace,
  name: string,
  opts: CreateEnvironmentOptions = {},
  ctl: { onProgress?: OnProgress, signal?: AbortSignal } = {},
): Promise<CreateEnvironmentResult> {
  checkOptions(opts)
  // The first environment becomes active (also when the active one no longer exists).
  const active = !ws.activeEnvironment || !(await ws.listEnvironments()).some(e => e.name === ws.activeEnvironment)
  const env = await claimWorkFolder(ws, name, ctl.onProgress)
  const final = ws.env(name)
  const task = startTask(ctl.onProgress, `create environment ${name}`)
  let step = 'starting'
  let stepTask: Task | undefined
  const stepTo = (label: string): void => {
    ctl.signal?.throwIfAborted()
    stepTask?.end('ok')
    step = label
    stepTask = task.child(label)
  }
  try {
    const manifest = opts.manifest?.tool?.comfydock
    stepTo('finding Python')
    const python = await pickInterpreter(opts, manifest?.python_version, stepTask)

    stepTo('resolving the ComfyUI version')
    const source = opts.comfyuiSource ?? ws.config().comfyui_source
    const resolved: ResolvedComfyui = !opts.comfyui && manifest?.comfyui_commit_sha
      ? { version: manifest.comfyui_version ?? manifest.comfyui_commit_sha, type: manifest.comfyui_version_type ?? 'commit', commit: manifest.comfyui_commit_sha }
      : await resolveComfyuiRef(ws, source, opts.comfyui ?? manifest?.comfyui_version, ctl)

    stepTo(`getting ComfyUI ${resolved.version}`)
    const cached = await ensureCached(ws, source, resolved, ctl)
    const comfyui = { ...resolved, commit: cached.commit }
    await copyCachedTree(ws, comfyui.commit, env.comfyui)
    // Some trees (exports, old tags) lack these folders; ComfyUI and node installs expect them.
    for (const dir of [env.customNodes, env.userWorkflows]) await mkdir(dir, { recursive: true })
    await writeExtraModelPaths(env.extraModelPaths, ws.modelsDir)

    stepTo('writing .cec/pyproject.toml')
    const { requirements, skipped } = await readComfyuiRequirements(env.comfyui)
    for (const line of skipped) task.note('warn', `ComfyUI requirements.txt: ignored option line "${line}"`)
    const doc = opts.manifest ? structuredClone(opts.manifest) : initialManifest(name, comfyui, python.version, requirements)
    Object.assign(doc.tool.comfydock, { comfyui_version: comfyui.version, comfyui_version_type: comfyui.type, comfyui_commit_sha: comfyui.commit })
    doc.tool.comfydock.python_version ??= python.version
    await writeCecFiles(env, doc, python.version)
    const installer = await chooseInstaller()
    if (installer === 'pip') task.note('warn', `uv is not on PATH, so this environment uses venv + pip. ${UV_ADVICE}`)
    await writeLocalSettings(env, {
      installer,
      python: python.path,
      python_version: python.version,
      system_site_packages: Boolean(opts.systemSitePackages),
      torch_backend: opts.torchBackend ?? 'auto',
    })

    stepTo('creating the Python venv')
    const backend = await openPythonBackend(ws, env)
    await backend.ensureVenv(ctl)

    if (opts.beforeCommit) {
      stepTo('setting up the imported content')
      await opts.beforeCommit(env, ctl)
    }

    // After beforeCommit: what it put in .cec (a bundled lock, pack groups) is what gets installed,
    // exactly as locked when the lock matches the manifest.
    stepTo('installing Python packages')
    const synced = await backend.sync(opts.beforeCommit ? await readManifest(env.pyproject) : doc, { ...ctl, locked: Boolean(opts.beforeCommit) })
    if (synced.note) stepTask?.note('warn', synced.note)
    if (opts.afterSync) {
      stepTo('finishing the imported content')
      await opts.afterSync(env, ctl)
    }

    stepTo('recording the first commit')
    const git = openGit(env.cec)
    await git.init()
    // an adopted history (clone) may already hold exactly this: then HEAD is the first commit
    const commit = await git.commit(opts.commitMessage ?? 'Initial environment setup') ?? await git.head() ?? ''

    await writeFile(env.completeMarker, new Date().toISOString() + '\n')
    stepTo('moving the environment into place')
    try {
      await rename(env.root, final.root)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      throw code === 'EEXIST' || code === 'ENOTEMPTY' ? nameTaken(name, final.root) : err
    }
    await relocateVenv(final.venv, env.venv, final.venv)
    if (active) await ws.setActive(name)
    stepTask?.end('ok')
    task.end('ok')
    return { name, path: final.root, comfyui, python, backend: backend.kind, python_lock: synced, cloned: cached.cloned, active, commit }
  } catch (err) {
    stepTask?.end('failed')
    task.end('failed')
    await rm(env.root, { recursive: true, force: true, maxRetries: 3 }) // the work folder; after the rename nothing is there
    if (ctl.signal?.aborted) throw new ComfydockError('CANCELLED', `creating environment "${name}" was cancelled; nothing was kept`)
    throw stepFailed(name, step, err)
  }
}
