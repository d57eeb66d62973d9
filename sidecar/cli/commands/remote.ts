/**
 * @module Teams: `remote add|remove|list`, `push`, `pull` (with a preview and conflict choices) and
 * `clone`. Each calls the core in sidecar/remote; a conflict is asked on a terminal, answered by
 * --choose/--mine/--theirs/--keep-both in scripts, and never decided silently.
 */
import { Option, type Command } from 'commander'
import { ComfydockError } from '../../errors'
import type { ModelStrategy } from '../../env'
import type { ChangeSet, Choice, CloneResult, Conflict, PullPreview, PullResult, PushResult } from '../../remote'
import { collectValues, withContext, type CliContext } from '../context'
import { addPythonOptions, checkPythonOptions } from './env'

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`

export function changesText (c: ChangeSet): string[] {
  if (c.empty) return ['  nothing in the environment changes']
  const lines: string[] = []
  const arrow = (from?: string, to?: string): string => `${from ?? '-'} → ${to ?? '-'}`
  for (const p of c.packs.added) lines.push(`  + pack ${p.name} ${p.to ?? ''}`.trimEnd())
  for (const p of c.packs.changed) lines.push(`  ~ pack ${p.name} ${arrow(p.from, p.to)}`)
  for (const p of c.packs.removed) lines.push(`  - pack ${p.name} ${p.from ?? ''}`.trimEnd())
  for (const r of c.python.added) lines.push(`  + python ${r}`)
  for (const r of c.python.removed) lines.push(`  - python ${r}`)
  for (const m of c.models.added) lines.push(`  + model ${m.name}`)
  for (const m of c.models.removed) lines.push(`  - model ${m.name}`)
  for (const w of c.workflows.added) lines.push(`  + workflow ${w}`)
  for (const w of c.workflows.changed) lines.push(`  ~ workflow ${w}`)
  for (const w of c.workflows.removed) lines.push(`  - workflow ${w}`)
  if (c.comfyui) lines.push(`  ~ ComfyUI ${arrow(c.comfyui.from, c.comfyui.to)}`)
  if (c.python_version) lines.push(`  ~ Python ${arrow(c.python_version.from, c.python_version.to)}`)
  for (const f of c.files) lines.push(`  ~ file ${f}`)
  return lines
}

function conflictLines (p: PullPreview): string[] {
  return p.conflicts.map(c => `  ${p.unresolved.includes(c.id) ? '!' : '✓'} ${c.label} [${c.id}]\n      mine:   ${c.mine.summary}\n      theirs: ${c.theirs.summary}`)
}

export function previewText (p: PullPreview): string {
  if (p.kind === 'up-to-date') return `${p.environment} is up to date with ${p.remote}/${p.branch}.`
  const lines = [`Pull ${p.remote}/${p.branch} (${p.theirs?.slice(0, 7)}) into ${p.environment}: ${p.kind === 'fast-forward' ? 'fast-forward' : `merge with ${p.mine?.slice(0, 7)}`}`]
  if (p.changes) lines.push('Changes:', ...changesText(p.changes))
  if (p.conflicts.length) lines.push(`Conflicts (${p.unresolved.length} to choose):`, ...conflictLines(p))
  for (const n of p.notes) lines.push(`  note: ${n}`)
  if (p.uncommitted.length) lines.push('Uncommitted work (pull refuses; --commit-first commits it first):', ...p.uncommitted.map(u => `  ${u}`))
  return lines.join('\n')
}

function pullText (r: PullResult): string {
  const p = r.preview
  if (p.kind === 'up-to-date') return `${p.environment} is up to date with ${p.remote}/${p.branch}.`
  const lines = [`Pull ${r.ok ? 'complete' : 'finished with problems'}: ${p.environment} is at ${r.commit?.slice(0, 7)} (${p.kind})`]
  if (r.committedFirst) lines.push(`  your uncommitted work was committed first, as ${r.committedFirst.slice(0, 7)}`)
  if (p.changes) lines.push(...changesText(p.changes))
  if (r.comfyuiChanged) lines.push('  ComfyUI moved to the pulled version')
  if (r.workflows.written.length) lines.push(`  workflows updated in ComfyUI: ${r.workflows.written.join(', ')}`)
  if (r.workflows.removed.length) lines.push(`  workflows removed from ComfyUI: ${r.workflows.removed.join(', ')}`)
  if (r.workflows.kept.length) lines.push(`  kept your uncommitted copy in ComfyUI: ${r.workflows.kept.join(', ')} (the pulled version is in .cec; \`comfydock workflow restore NAME\` loads it)`)
  if (r.packs.removed.length) lines.push(`  packs removed: ${r.packs.removed.join(', ')}`)
  for (const k of r.packs.kept) lines.push(`  kept pack ${k.id}: ${k.why}`)
  const rep = r.repair
  if (rep) {
    if (rep.nodes.installed.length) lines.push(`  packs installed: ${rep.nodes.installed.join(', ')}`)
    for (const f of rep.nodes.failed) lines.push(`  ✗ pack ${f.id}: ${f.error.message.split('\n')[0]}`)
    if (rep.python.synced) lines.push('  Python packages synced')
    if (rep.python.error) lines.push(`  ✗ Python: ${rep.python.error.message.split('\n')[0]}`)
    if (rep.models.downloaded.length) lines.push(`  models downloaded: ${rep.models.downloaded.map(m => m.filename).join(', ')}`)
    for (const f of rep.models.failed) lines.push(`  ✗ model ${f.filename}: ${f.error.message.split('\n')[0]}`)
  }
  if (r.error) lines.push(`  ✗ ${r.error.message.split('\n')[0]}`)
  if (!r.ok) lines.push(`Finish with \`comfydock -e ${p.environment} repair\`.`)
  return lines.join('\n')
}

function pushText (r: PushResult): string {
  const lines = [r.upToDate ? `${r.remote} already has ${r.commit.slice(0, 7)}.` : `Pushed ${r.environment} (${r.commit.slice(0, 7)}) to ${r.remote} (${r.url}), branch ${r.branch}.`]
  if (r.uncommitted.length) lines.push(`  not pushed (uncommitted): ${r.uncommitted.join(', ')}; \`comfydock commit -m "..."\` then push again`)
  if (r.modelsWithoutSource.length) lines.push(`  teammates cannot fetch ${plural(r.modelsWithoutSource.length, 'model')} (no source): ${r.modelsWithoutSource.join(', ')}; \`comfydock model push --all-needed\` puts them in the team's store`)
  return lines.join('\n')
}

const CHOICES: Choice[] = ['mine', 'theirs', 'both']

function parseChoices (given: string[] | undefined): Record<string, Choice> {
  const out: Record<string, Choice> = {}
  for (const g of given ?? []) {
    const i = g.lastIndexOf('=')
    const id = g.slice(0, i); const choice = g.slice(i + 1) as Choice
    if (i <= 0 || !CHOICES.includes(choice)) {
      throw new ComfydockError('USAGE', `--choose "${g}" is not <conflict id>=mine|theirs|both`, { hint: 'The ids are listed by `comfydock pull --preview`, e.g. --choose node:comfyui-impact-pack=theirs.' })
    }
    out[id] = choice
  }
  return out
}

async function askConflicts (ctx: CliContext, open: Conflict[]): Promise<Record<string, Choice>> {
  const out: Record<string, Choice> = {}
  for (const c of open) {
    const pick = await ctx.select<Choice>(`${c.label}: which one?`, c.choices.map(ch => ({
      name: ch === 'mine' ? `mine (${c.mine.summary})` : ch === 'theirs' ? `theirs (${c.theirs.summary})` : 'keep both (theirs under a second name)',
      value: ch,
    })))
    if (pick) out[c.id] = pick
  }
  return out
}

export function cloneText (res: CloneResult): string {
  return [
    `Cloned ${res.url} into environment "${res.name}" (${res.path})`,
    `  Custom nodes: ${res.nodes.installed.length} installed${res.nodes.failed.length ? `, ${res.nodes.failed.length} failed` : ''}`,
    `  Models: ${res.models.local.length} found locally, ${res.models.downloaded.length} downloaded, ${res.models.failed.length} failed`,
    ...res.nodes.failed.map(f => `    ✗ ${f.id}: ${f.error.message.split('\n')[0]}`),
    ...res.models.failed.map(f => `    ✗ ${f.filename}: ${f.error.message.split('\n')[0]}`),
    ...(res.development_missing.length ? [`  ⚠ development nodes not in the repository: ${res.development_missing.join(', ')}`] : []),
    '',
    'Next steps:', ...res.next_steps.map(s => `  ${s}`),
    `  Share changes: \`comfydock -e ${res.name} push\`; take teammates': \`comfydock -e ${res.name} pull\``,
  ].join('\n')
}

interface PullFlags { preview?: boolean, choose?: string[], mine?: boolean, theirs?: boolean, keepBoth?: boolean, commitFirst?: boolean, models?: ModelStrategy }

export function registerRemoteCommands (program: Command): void {
  const remote = program.command('remote').description('where the environment\'s .cec travels (git remotes)')
  remote
    .command('add <name> <url>')
    .description('add a git remote (https, ssh, or a local path); credentials come from git\'s own credential helpers')
    .action(withContext(async (ctx, [name, url]) => {
      const { addRemote } = await import('../../remote')
      const res = await addRemote(await ctx.env(), name, url)
      ctx.print(res, `Added remote ${res.name}: ${res.url}`)
    }))
  remote
    .command('remove <name>')
    .description('remove a git remote')
    .action(withContext(async (ctx, [name]) => {
      const { removeRemote } = await import('../../remote')
      await removeRemote(await ctx.env(), name)
      ctx.print({ removed: name }, `Removed remote ${name}`)
    }))
  remote
    .command('list')
    .description('list the remotes')
    .action(withContext(async (ctx) => {
      const { listRemotes } = await import('../../remote')
      const remotes = await listRemotes(await ctx.env())
      ctx.print({ remotes }, () => remotes.length ? remotes.map(r => `${r.name.padEnd(12)} ${r.url}`).join('\n') : 'No remotes. Add one with `comfydock remote add origin <git-url>`.')
    }))

  program
    .command('push [remote]')
    .description('push the environment\'s commits to a remote (default origin)')
    .action(withContext(async (ctx, [name]) => {
      const { pushEnvironment } = await import('../../remote')
      const res = await pushEnvironment(await ctx.workspace(), await ctx.env(), { remote: name, onProgress: ctx.onProgress })
      ctx.print(res, () => pushText(res))
    }))

  program
    .command('pull [remote]')
    .description('take a teammate\'s commits (default origin): preview, merge by meaning, then bring the environment to the result')
    .option('--preview', 'show what changes and what conflicts; change nothing')
    .option('--choose <id=choice>', 'answer one conflict: mine, theirs or both (ids from --preview); repeatable', collectValues)
    .option('--mine', 'every other conflict: keep this environment\'s side')
    .option('--theirs', 'every other conflict: take the remote\'s side')
    .option('--keep-both', 'every other workflow conflict: keep both, theirs under a second name (other conflicts: mine)')
    .option('--commit-first', 'commit uncommitted work before merging (it stays in history) instead of refusing')
    .addOption(new Option('--models <strategy>', 'which missing models to download afterwards').choices(['all', 'required', 'skip']).default('all'))
    .action(withContext<PullFlags>(async (ctx, [name], opts) => {
      const prefers = [opts.mine && 'mine', opts.theirs && 'theirs', opts.keepBoth && 'both'].filter(Boolean) as Choice[]
      if (prefers.length > 1) throw new ComfydockError('USAGE', '--mine, --theirs and --keep-both exclude each other', { hint: 'Pass one; answer single conflicts with --choose.' })
      const { applyPull, planPull, resolvePull } = await import('../../remote')
      const ws = await ctx.workspace()
      const env = await ctx.env()
      // Ctrl-C cancels: a merge being written is undone, downloads stop where they can resume
      const ctl = new AbortController()
      const cancel = (): void => ctl.abort()
      process.once('SIGINT', cancel)
      process.once('SIGTERM', cancel)
      const popts = { remote: name, choices: parseChoices(opts.choose), prefer: prefers[0], commitFirst: opts.commitFirst && !opts.preview, models: opts.models, onProgress: ctx.onProgress, signal: ctl.signal }
      let plan = await planPull(ws, env, popts)
      if (opts.preview || plan.preview.kind === 'up-to-date') {
        ctx.print(plan.preview, () => previewText(plan.preview))
        return
      }
      ctx.info(previewText(plan.preview))
      const open = plan.preview.conflicts.filter(c => plan.preview.unresolved.includes(c.id))
      if (open.length && ctx.interactive && !plan.preview.uncommitted.length) {
        plan = resolvePull(plan, { ...popts, choices: { ...popts.choices, ...await askConflicts(ctx, open) } }, await import('../../remote/merge'))
      }
      if (!plan.preview.unresolved.length && !plan.preview.uncommitted.length && !(await ctx.confirm('Apply this pull?', { default: true }))) {
        throw new ComfydockError('CANCELLED', 'pull cancelled; nothing was changed')
      }
      const res = await applyPull(ws, env, plan, popts)
      ctx.print(res, () => pullText(res))
      if (!res.ok) process.exitCode = 1
    }))

  addPythonOptions(program
    .command('clone <git-url> [name]')
    .description('create an environment from a git remote (its .cec repository); push and pull work at once')
    .addOption(new Option('--models <strategy>', 'which missing models to download').choices(['all', 'required', 'skip'])))
    .action(withContext<{ models?: ModelStrategy, python?: string, pythonPath?: string, systemSitePackages?: boolean, torchBackend?: string }>(async (ctx, [url, name], opts) => {
      checkPythonOptions(opts)
      const { cloneEnvironment } = await import('../../remote')
      const res = await cloneEnvironment(await ctx.workspace(), url, name, {
        models: opts.models ?? 'all',
        python: opts.python,
        pythonPath: opts.pythonPath,
        systemSitePackages: opts.systemSitePackages,
        torchBackend: opts.torchBackend,
        onProgress: ctx.onProgress,
      })
      ctx.print(res, () => cloneText(res))
      if (!res.ok) process.exitCode = 1
    }))
}
