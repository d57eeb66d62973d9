/** @module `node add|remove|list|update|prune`: custom node packs of the environment. */
import type { Command } from 'commander'
import { ComfydockError } from '../../errors'
import type { BatchResult, ConflictDecision, ConflictPolicy, DependencyConflict, ListedNode, NodeItemResult } from '../../nodes'
import { withContext, type CliContext } from '../context'

function pinText (r: NodeItemResult): string {
  const e = r.entry
  if (!e) return ''
  if (e.source === 'git') return `${e.repository}@${e.version.slice(0, 12)}${e.ref ? ` (${e.ref})` : ''}`
  if (e.source === 'development') return 'development'
  return `${e.registry_id ?? r.id}@${e.version}`
}

/** What a conflict choice did, after the pack's line. */
function conflictNote (r: NodeItemResult): string {
  if (!r.conflict) return ''
  if (r.conflict.chosen === 'skip') return '\n          skipped: nothing changed. Choose otherwise with `--on-conflict replace` or `--on-conflict override[=<requirement>]`.'
  if (r.removed?.length) return ` (removed ${r.removed.join(', ')} to make room)`
  return r.conflict.chosen === 'override' ? ' (a conflict settled with an override in [tool.uv] override-dependencies)' : ''
}

function batchText (verb: string, out: BatchResult, detail: (r: NodeItemResult) => string = pinText): string {
  const lines = out.results.map(r => r.ok
    ? `  ok      ${r.id}  ${detail(r)}${r.cached ? ' (from cache)' : ''}${conflictNote(r)}`
    : `  failed  ${r.spec}: ${r.error?.message}${r.error?.hint ? `\n          ${r.error.hint}` : ''}${conflictNote(r)}`)
  const failed = out.results.filter(r => !r.ok).length
  const head = `${verb} ${out.results.length - failed} of ${out.results.length}`
  return [head, ...lines, ...out.warnings.map(w => `warning: ${w}`)].join('\n')
}

/** A batch with any failure exits 1, after printing every outcome. */
function finish (ctx: CliContext, out: BatchResult, text: string): void {
  ctx.print(out, text)
  if (!out.ok) process.exitCode = 1
}

function listLine (n: ListedNode): string {
  const version = n.source === 'git' ? `${n.version.slice(0, 12)}${n.ref ? ` (${n.ref})` : ''}` : n.version
  const state = n.state === 'version-mismatch' ? `version-mismatch (on disk ${n.installedVersion?.slice(0, 12)})` : n.state
  return `${n.id.padEnd(32)} ${n.source.padEnd(12)} ${version.padEnd(24)} ${state}`
}

/** `--on-conflict skip|replace|override|override=<requirement>[,<requirement>...]` */
export function parseOnConflict (value: string): ConflictDecision {
  if (value === 'skip' || value === 'replace') return { kind: value }
  if (value === 'override') return { kind: 'override', requirements: [] }
  const m = /^override=(.+)$/s.exec(value)
  // a comma starts a new requirement only before a package name: `urllib3>=1.20,<2` stays one
  if (m) return { kind: 'override', requirements: m[1].split(/,(?=\s*[A-Za-z])/).map(r => r.trim()).filter(Boolean) }
  throw new ComfydockError('USAGE', `--on-conflict ${value}: expected skip, replace, override or override=<requirement>`, {
    hint: 'For example `--on-conflict replace`, or `--on-conflict override="urllib3==1.26.20"`.',
  })
}

/**
 * The conflict policy of `node add`: the flag's decision; else, on a TTY, a question per conflict;
 * else (--yes, --json, scripts) skip, the choice that changes nothing, which the output says.
 */
function conflictPolicy (ctx: CliContext, flag: string | undefined): ConflictPolicy | undefined {
  if (flag !== undefined) return parseOnConflict(flag)
  if (!ctx.interactive) return undefined
  return async (conflict: DependencyConflict): Promise<ConflictDecision> => {
    const sides = conflict.with.map(s => `${s.name}${s.requirements.length ? ` (${s.requirements.join(', ')})` : ''}`).join(', ')
    ctx.info(`${conflict.pack}${conflict.requirements.length ? ` (${conflict.requirements.join(', ')})` : ''} conflicts with ${sides}. Nothing has changed yet.`)
    const choice = await ctx.select('What should happen?', conflict.choices.map(c => ({
      name: c.kind === 'skip' ? `Skip ${conflict.pack}` : c.kind === 'replace' ? `Remove ${c.remove.join(', ')}, then add ${conflict.pack}` : `Add ${conflict.pack} with an override${c.requirements.length ? `: ${c.requirements.join(', ')}` : ' (you name it)'}`,
      value: c,
      description: c.label,
    })))
    if (!choice || choice.kind === 'skip') return { kind: 'skip' }
    if (choice.kind === 'replace') return { kind: 'replace' }
    if (choice.requirements.length) return { kind: 'override', requirements: choice.requirements }
    const typed = await ctx.input('Override requirement (e.g. urllib3==1.26.20):')
    return typed ? { kind: 'override', requirements: [typed] } : { kind: 'skip' }
  }
}

export function registerNodeCommands (program: Command): void {
  const node = program.command('node').description('custom node packs: registry, git and development nodes, pinned in pyproject.toml')

  node.command('add <ids...>')
    .description('add packs: registry-id[@version], a git URL or path [@ref], or --dev NAME for your own node in custom_nodes')
    .option('--dev', 'track folders already in ComfyUI/custom_nodes as development nodes')
    .option('--override <requirements...>', 'settle a dependency conflict: these requirements replace every other on the same package (recorded in [tool.uv] override-dependencies)')
    .option('--on-conflict <choice>', 'when a pack conflicts: skip (default without a TTY), replace (remove the other packs first), override (the suggested version) or override=<requirement>')
    .action(withContext<{ dev?: boolean, override?: string[], onConflict?: string }>(async (ctx, [ids], opts) => {
      const onConflict = conflictPolicy(ctx, opts.onConflict)
      const { addNodes } = await import('../../nodes')
      const out = await addNodes(await ctx.workspace(), await ctx.lockedEnv('node add'), ids as string[], { dev: opts.dev, overrides: opts.override, onConflict, onProgress: ctx.onProgress, signal: ctx.signal })
      finish(ctx, out, batchText('Added', out))
    }))

  node.command('remove <ids...>')
    .description('stop tracking packs; registry/git folders are deleted (they stay cached), development nodes become NAME.disabled')
    .option('--force', 'also delete git pack folders holding uncommitted changes or local commits')
    .action(withContext<{ force?: boolean }>(async (ctx, [ids], opts) => {
      const { removeNodes } = await import('../../nodes')
      const out = await removeNodes(await ctx.workspace(), await ctx.lockedEnv('node remove'), ids as string[], { force: opts.force, onProgress: ctx.onProgress, signal: ctx.signal })
      finish(ctx, out, batchText('Removed', out, r => (r as { folder?: string }).folder === 'disabled' ? `renamed to ${r.entry?.name}.disabled` : 'folder deleted'))
    }))

  node.command('list')
    .description('tracked packs with source, version or commit, and state on disk')
    .action(withContext(async (ctx) => {
      const { listNodes } = await import('../../nodes')
      const out = await listNodes(await ctx.workspace(), await ctx.env())
      ctx.print(out, () => [
        ...(out.nodes.length ? out.nodes.map(listLine) : ['No node packs tracked. Add one with `comfydock node add <id>`.']),
        ...out.untracked.map(f => `untracked folder: ${f} (track it with \`comfydock node add --dev ${f}\`)`),
      ].join('\n'))
    }))

  node.command('search <text>')
    .description('find packs in the Comfy Registry by name, or with --class the packs providing a node class')
    .option('--class', 'treat TEXT as a node class name (e.g. IPAdapterAdvanced)')
    .action(withContext<{ class?: boolean }>(async (ctx, [text], opts) => {
      const { searchPacks } = await import('../../nodes')
      const out = await searchPacks(await ctx.workspace(), text as string, { byClass: opts.class, onProgress: ctx.onProgress, signal: ctx.signal })
      if (out.stale) ctx.warn('the Comfy Registry is unreachable; these results come from the cache')
      ctx.print(out, () => out.packs.length
        ? out.packs.map(p => `${p.id.padEnd(36)} ${(p.latestVersion ?? '').padEnd(10)} ${p.repository ?? ''}`).join('\n')
        : `No pack found for "${text}".`)
    }))

  node.command('update <id>')
    .description('registry: latest or ID@version; git: newest commit of its ref or ID@ref; dev: re-scan requirements. Rolls back on failure')
    .action(withContext(async (ctx, [id]) => {
      const { updateNode } = await import('../../nodes')
      const out = await updateNode(await ctx.workspace(), await ctx.lockedEnv('node update'), id as string, { onProgress: ctx.onProgress, signal: ctx.signal })
      ctx.print(out, () => [
        out.changed ? `Updated ${out.id}: ${out.from} -> ${out.to}` : `${out.id} is already at ${out.to}`,
        ...(out.warnings ?? []).map(w => `warning: ${w}`),
      ].join('\n'))
    }))

  node.command('prune')
    .description('remove packs no tracked workflow needs (shows them first; confirm, or --yes)')
    .option('--exclude <ids...>', 'keep these packs')
    .action(withContext<{ exclude?: string[] }>(async (ctx, _args, opts) => {
      const { planPrune, pruneNodes } = await import('../../nodes')
      const ws = await ctx.workspace()
      const env = await ctx.lockedEnv('node prune')
      const plan = await planPrune(env, opts.exclude)
      if (plan.remove.length === 0) {
        ctx.print({ plan, removed: [], confirmed: true }, 'Nothing to prune: every tracked pack is needed by a workflow (or is a development node).')
        return
      }
      ctx.info(`Packs no tracked workflow needs:\n${plan.remove.map(id => `  ${id}`).join('\n')}`)
      const out = await pruneNodes(ws, env, { exclude: opts.exclude, onProgress: ctx.onProgress, signal: ctx.signal, confirm: () => ctx.confirm(`Remove ${plan.remove.length} pack(s)?`) })
      ctx.print(out, out.confirmed ? `Removed ${out.removed.filter(r => r.ok).length} pack(s).` : 'Nothing removed.')
      if (out.removed.some(r => !r.ok)) process.exitCode = 1
    }))
}
