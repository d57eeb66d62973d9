/**
 * @module `model …`: the workspace model index (sync, list, find, show, hash, tracked dirs),
 * downloads and source look-up, and the environment's model table (add, remove, list).
 */
import type { Command } from 'commander'
import { resolve } from 'node:path'
import { ComfydockError } from '../../errors'
import { isDirectory } from '../../fs'
import type { IndexedModel, ManifestModel, ModelIndex, ScanResult } from '../../models'
import type { Workspace } from '../../workspace'
import { withContext, type CliContext } from '../context'
import { formatBytes } from '../render/style'

async function withIndex<T> (ws: Workspace, fn: (index: ModelIndex) => T): Promise<T> {
  const { ModelIndex: Index } = await import('../../models')
  const index = Index.open(ws)
  try { return fn(index) } finally { index.close() }
}

function modelLine (m: IndexedModel): string {
  const where = m.locations.map(l => l.relPath).join(', ') || '(not present)'
  return `${m.hash}  ${formatBytes(m.size).padStart(9)}  ${where}`
}

function modelDetails (m: IndexedModel): string {
  return [
    `hash     ${m.hash}`,
    `size     ${formatBytes(m.size)} (${m.size} bytes)`,
    `blake3   ${m.blake3 ?? '(not computed: `comfydock model index hash ' + m.hash + '`)'}`,
    `sha256   ${m.sha256 ?? '(not computed)'}`,
    ...m.locations.map(l => `file     ${l.baseDir}/${l.relPath}`),
    ...m.sources.map(s => `source   ${s.type}: ${s.url}`),
  ].join('\n')
}

function scanSummary (r: ScanResult): string {
  const lines = [`${r.models} models in ${r.dirs.length} director${r.dirs.length === 1 ? 'y' : 'ies'}: ${r.added.length} added, ${r.moved.length} moved, ${r.changed.length} changed, ${r.removed.length} removed, ${r.unchanged} unchanged`]
  for (const d of r.dirs) if (d.missing) lines.push(`  missing: ${d.path} (entries kept)`)
  for (const m of r.moved) lines.push(`  moved   ${m.from} -> ${m.relPath}`)
  for (const c of r.changed) lines.push(`  changed ${c.relPath}`)
  return lines.join('\n')
}

function manifestLine (m: ManifestModel): string {
  const state = m.state === 'present' ? 'present' : m.state === 'missing' ? 'MISSING (has source)' : m.state === 'other-bytes' ? `OTHER BYTES at ${m.localPath}` : 'MISSING (no source)'
  return `${(m.hash ?? '(no file)').padEnd(16)}  ${m.filename.padEnd(36)} ${(m.category ?? '').padEnd(16)} ${m.criticality.padEnd(9)} ${state}${m.workflows.length ? `  [${m.workflows.join(', ')}]` : ''}`
}

const CRITICALITY = ['required', 'flexible', 'optional']

function registerIndexCommands (model: Command): void {
  const idx = model.command('index').description('the workspace-wide model index (content-addressed by short hash)')

  idx.command('sync').description('scan the models directories; only new or changed files are hashed')
    .action(withContext(async (ctx) => {
      const { syncIndex } = await import('../../models')
      const r = await syncIndex(await ctx.workspace(), { onProgress: ctx.onProgress, signal: ctx.signal })
      ctx.print(r, () => scanSummary(r))
    }))

  idx.command('status').description('tracked directories and index counts')
    .action(withContext(async (ctx) => {
      const { trackedDirs } = await import('../../models')
      const ws = await ctx.workspace()
      const { dirs, counts } = await withIndex(ws, i => ({ dirs: trackedDirs(ws, i), counts: i.counts() }))
      const result = { directories: dirs, ...counts }
      ctx.print(result, () => [`models: ${counts.models} (${counts.locations} files, ${counts.withFullHashes} with full hashes, ${counts.sources} sources)`, ...dirs.map(d => `  dir ${d}`)].join('\n'))
    }))

  idx.command('list').description('indexed models')
    .option('--type <folder>', 'only this model folder (checkpoints, loras, …)')
    .option('--duplicates', 'only models stored more than once')
    .action(withContext<{ type?: string, duplicates?: boolean }>(async (ctx, _args, opts) => {
      const models = await withIndex(await ctx.workspace(), i => {
        const list = opts.duplicates ? i.duplicates() : i.list({ folder: opts.type })
        return opts.type && opts.duplicates ? list.filter(m => m.locations.some(l => l.relPath.startsWith(`${opts.type}/`))) : list
      })
      const none = opts.duplicates
        ? `No duplicates: every indexed model${opts.type ? ` in ${opts.type}` : ''} is stored once.`
        : opts.type ? `No models indexed in ${opts.type}. Run \`comfydock model index sync\` after adding files.` : 'No models indexed. Run `comfydock model index sync`.'
      ctx.print({ models }, () => models.length ? models.map(modelLine).join('\n') : none)
    }))

  idx.command('find <query>').description('search by hash prefix, path or name')
    .action(withContext(async (ctx, [query]) => {
      const { searchModels } = await import('../../models')
      const models = await withIndex(await ctx.workspace(), i => searchModels(i, query))
      ctx.print({ models }, () => models.length ? models.map(modelLine).join('\n') : `Nothing matches "${query}".`)
    }))

  idx.command('show <id>').description('everything known about one model (hash, path or name)')
    .action(withContext(async (ctx, [id]) => {
      const { resolveModel } = await import('../../models')
      const m = await withIndex(await ctx.workspace(), i => resolveModel(i, id))
      ctx.print(m, () => modelDetails(m))
    }))

  idx.command('hash [id]').description('compute full BLAKE3 and SHA-256 (one model, or --all)')
    .option('--all', 'every present model that lacks full hashes')
    .option('--force', 'recompute even when known')
    .action(withContext<{ all?: boolean, force?: boolean }>(async (ctx, [id], opts) => {
      const { hashModels, resolveModel } = await import('../../models')
      if (!id && !opts.all) throw new ComfydockError('USAGE', 'name a model or pass --all', { hint: 'Run `comfydock model index hash <hash>` or `comfydock model index hash --all`.' })
      const ws = await ctx.workspace()
      const target = id ? [await withIndex(ws, i => resolveModel(i, id))] : undefined
      const models = await hashModels(ws, target, { onProgress: ctx.onProgress, signal: ctx.signal, force: opts.force || Boolean(id) })
      ctx.print({ models }, () => models.length ? models.map(m => `${m.hash}  blake3 ${m.blake3}  sha256 ${m.sha256}`).join('\n') : 'All models already have full hashes.')
    }))
}

function registerDirCommands (model: Command): void {
  const dir = model.command('dir').description('extra models directories tracked beside the workspace\'s models dir')
  dir.command('add <path>').description('track another folder of models (its own checkpoints/, loras/, …)').action(withContext(async (ctx, [path]) => {
    const p = resolve(path)
    if (!(await isDirectory(p))) throw new ComfydockError('MODEL_DIR_NOT_FOUND', `${p} is not a directory`, { hint: 'Pass an existing folder.' })
    const added = await withIndex(await ctx.workspace(), i => i.addDir(p))
    ctx.print({ path: p, added }, added ? `Tracking ${p}. Run \`comfydock model index sync\` to index it.` : `${p} is already tracked.`)
  }))
  dir.command('remove <path>').description('stop tracking a folder (files stay; index entries for it are dropped)').action(withContext(async (ctx, [path]) => {
    const p = resolve(path)
    const removed = await withIndex(await ctx.workspace(), i => i.removeDir(p))
    if (!removed) throw new ComfydockError('MODEL_DIR_NOT_FOUND', `${p} is not a tracked models directory`, { hint: 'See `comfydock model dir list`.' })
    ctx.print({ path: p, removed }, `Stopped tracking ${p}.`)
  }))
  dir.command('list').description('the folders the index covers').action(withContext(async (ctx) => {
    const { trackedDirs } = await import('../../models')
    const ws = await ctx.workspace()
    const dirs = await withIndex(ws, i => trackedDirs(ws, i))
    ctx.print({ directories: dirs.map((path, n) => ({ path, default: n === 0 })) }, () => dirs.map((d, n) => `${d}${n === 0 ? '  (workspace models dir)' : ''}`).join('\n'))
  }))
}

/**
 * On a terminal, asks once, before any progress bar, which folder URLs go in when the host cannot
 * say (anything but CivitAI). Otherwise undefined, and the core's error asks for --category.
 */
async function askFolder (ctx: CliContext, specs: string[]): Promise<string | undefined> {
  if (!ctx.interactive) return undefined
  const { KNOWN_MODEL_FOLDERS, claimSource, hostContext } = await import('../../models')
  const hosts = await hostContext(await ctx.workspace())
  const unsure = specs.filter(s => /^[a-z][a-z0-9+.-]*:/i.test(s) && !claimSource(s, hosts).host.knowsFolder)
  if (unsure.length === 0) return undefined
  return ctx.select(`Which model folder ${unsure.length === 1 ? 'does it' : 'do they'} go in?`, KNOWN_MODEL_FOLDERS.map(f => ({ name: f, value: f as string })))
}

async function runDownloads (ctx: CliContext, urls: string[], opts: { path?: string, category?: string, hash?: string }): Promise<void> {
  if (opts.path && urls.length > 1) throw new ComfydockError('USAGE', '--path names one file; it cannot be used with several URLs', { hint: 'Use --category for several downloads.' })
  const { downloadModels } = await import('../../models')
  const ws = await ctx.workspace()
  const folder = opts.category ?? (opts.path ? undefined : await askFolder(ctx, urls))
  const out = await downloadModels(ws, urls.map(url => ({ url, relPath: opts.path, folder, expectedHash: opts.hash })), { onProgress: ctx.onProgress, signal: ctx.signal })
  ctx.throwIfCancelled()
  const failed = out.filter(o => o.error)
  if (failed.length === urls.length && failed.length === 1) throw failed[0].error
  const result = {
    models: out.filter(o => o.model).map(o => o.model!),
    failed: failed.map(o => ({ url: o.request.url, error: o.error instanceof ComfydockError ? o.error.toPayload() : { code: 'INTERNAL', message: String(o.error) } })),
  }
  ctx.print(result, () => [
    ...result.models.map(m => `${m.downloaded ? 'downloaded' : 'already have'} ${m.relPath}  (${m.hash}, ${formatBytes(m.size)})${m.verified ? '' : '  unverified: no published hash to check it against (pass --hash to check one)'}`),
    ...result.failed.map(f => `FAILED ${f.url}: ${f.error.message}`),
  ].join('\n'))
  if (failed.length > 0) process.exitCode = 1
}

export function registerModelCommands (program: Command): void {
  const model = program.command('model').alias('models').description('models: the index, downloads, and the environment\'s model list')
  registerIndexCommands(model)
  registerDirCommands(model)

  model.command('download <urls...>').description('download models (Hugging Face, CivitAI or direct URLs), verified and indexed')
    .option('--path <rel>', 'relative path under the models dir, e.g. loras/style.safetensors')
    .option('--category <folder>', 'model folder when the URL does not say (checkpoints, loras, vae, …)')
    .option('--hash <hash>', 'expected short hash, or sha256:/blake3: full hash')
    .action(withContext<{ path?: string, category?: string, hash?: string }>(async (ctx, [urls], opts) => runDownloads(ctx, urls, opts)))

  model.command('find-source <id>').description('look a local model up by hash (CivitAI, the team\'s model store) and record the sources')
    .action(withContext(async (ctx, [id]) => {
      const { findModelSource, resolveModel } = await import('../../models')
      const ws = await ctx.workspace()
      const m = await withIndex(ws, i => resolveModel(i, id))
      const r = await findModelSource(ws, m, { onProgress: ctx.onProgress, signal: ctx.signal })
      ctx.print(r, () => r.found.length
        ? `Found${r.name ? ` (${r.name})` : ''}: ${r.found.map(s => s.url).join(', ')}`
        : `${r.asked.join(' and ')} ${r.asked.length > 1 ? 'do' : 'does'} not know ${m.hash}. Add a source by downloading it with \`comfydock model download URL\`.`)
      // what was asked for (a source) was not found: say so in the exit code too, as grep does
      if (r.found.length === 0) process.exitCode = 1
    }))

  model.command('push [model]').description('upload models to the team\'s store (`config model_store`), keyed by SHA-256; what it has is skipped')
    .option('--all-needed', 'every model the environment needs that is on this machine')
    .action(withContext<{ allNeeded?: boolean }>(async (ctx, [spec], opts) => {
      const { pushEnvironmentModels } = await import('../../env')
      if (spec && opts.allNeeded) throw new ComfydockError('USAGE', 'name one model or pass --all-needed, not both', { hint: 'Run `comfydock model push --all-needed`.' })
      const ws = await ctx.workspace()
      const env = await ctx.lockedEnv('model push')
      const r = await pushEnvironmentModels(ws, env, { model: spec, allNeeded: opts.allNeeded }, { onProgress: ctx.onProgress, signal: ctx.signal })
      ctx.print(r, () => [
        ...r.uploaded.map(m => `uploaded ${m.filename}  (${m.hash}, ${formatBytes(m.size)})`),
        ...r.present.map(m => `already in the store: ${m.filename}  (${m.hash})`),
        ...r.failed.map(f => `FAILED ${f.filename}: ${f.error.message}`),
        ...(r.notHere.length ? [`not on this machine (nothing to upload): ${r.notHere.join(', ')}`] : []),
        `${r.store}: ${r.uploaded.length} uploaded, ${r.present.length} already there${r.failed.length ? `, ${r.failed.length} failed` : ''}.` +
          (r.recorded.length ? ` Commit to share the store as their source: \`comfydock commit -m "models in the store"\`.` : ''),
      ].join('\n'))
      if (r.failed.length > 0) process.exitCode = 1
    }))

  model.command('add <model>').description('add a model (hash, name or URL) to the environment\'s manifest')
    .option('--optional', 'mark it optional (not needed to run)')
    .option('--criticality <level>', `required, flexible or optional (default by folder)`)
    .option('--workflow <name>', 'also list it under this tracked workflow')
    .option('--category <folder>', 'model folder for a URL that does not say')
    .action(withContext<{ optional?: boolean, criticality?: string, workflow?: string, category?: string }>(async (ctx, [spec], opts) => {
      const { addModelToManifest } = await import('../../models')
      if (opts.criticality && !CRITICALITY.includes(opts.criticality)) {
        throw new ComfydockError('INVALID_ARGUMENT', `criticality "${opts.criticality}" is not one of ${CRITICALITY.join(', ')}`)
      }
      const env = await ctx.lockedEnv('model add')
      const m = await addModelToManifest(await ctx.workspace(), env, spec, {
        optional: opts.optional, criticality: opts.criticality as ManifestModel['criticality'] | undefined, workflow: opts.workflow, onProgress: ctx.onProgress, signal: ctx.signal,
        choose: (question, models) => ctx.select(question, models.map(x => ({ name: modelLine(x), value: x }))),
        folder: opts.category ?? await askFolder(ctx, [spec]),
      })
      ctx.print(m, `Added ${m.filename} (${m.hash}, ${m.criticality}) to ${env.name}${opts.workflow ? ` and workflow ${opts.workflow}` : ''}.`)
    }))

  model.command('remove <model>').description('remove a model from the environment\'s manifest (the file stays)')
    .option('--workflow <name>', 'only from this workflow\'s list')
    .action(withContext<{ workflow?: string }>(async (ctx, [spec], opts) => {
      const { removeModelFromManifest } = await import('../../models')
      const env = await ctx.lockedEnv('model remove')
      const r = await removeModelFromManifest(env, spec, { workflow: opts.workflow })
      ctx.print(r, `Removed ${r.filename} (${r.hash}) from ${opts.workflow ? `workflow ${opts.workflow}` : env.name}.`)
    }))

  model.command('list').description('the environment\'s models and whether each is on this machine')
    .action(withContext(async (ctx) => {
      const { listManifestModels } = await import('../../models')
      const env = await ctx.env()
      const models = await listManifestModels(await ctx.workspace(), env)
      ctx.print({ environment: env.name, models }, () => models.length ? models.map(manifestLine).join('\n') : `No models in ${env.name}. Add one with \`comfydock model add <hash|name|url>\`.`)
    }))
}
