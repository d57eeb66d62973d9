/** @module `adopt`: an environment from a ComfyUI the user already has, which stays untouched. */
import { Option, type Command } from 'commander'
import type { AdoptChoices, AdoptPreview, AdoptResult } from '../../adopt'
import { withContext, type CliContext } from '../context'

const list = (items: string[], max = 6): string => items.slice(0, max).join(', ') + (items.length > max ? `, +${items.length - max} more` : '')

function size (bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

/** What the user's own files become: copied (the environment's from then on) or used where they are. */
function filesText (p: AdoptPreview): string[] {
  const c = p.copied
  const r = p.referenced
  return [
    c.files ? `Copied into the new environment (${c.files} file(s), ${size(c.bytes)}):` : 'Copied into the new environment: nothing',
    ...(c.workflows.length ? [`  workflows: ${list(c.workflows)}`] : []),
    ...(c.dev_nodes.length ? [`  development nodes: ${list(p.dev_nodes.filter(d => c.dev_nodes.includes(d.dir)).map(d => `${d.dir} (${d.files} file(s), ${size(d.bytes)})`))}`] : []),
    'Used where they are (never copied, never changed):',
    `  models: ${list(r.model_dirs)}`,
    ...(r.dev_nodes.length ? [`  development nodes, linked: ${list(r.dev_nodes)}`] : []),
  ]
}

function previewText (p: AdoptPreview): string {
  return [
    `Adopting ${p.source} (it is only read, never changed)`,
    `ComfyUI: ${p.comfyui.version ?? '?'}${p.comfyui.commit ? ` (${p.comfyui.commit.slice(0, 12)})` : ''}`,
    `Registry packs (installed from the registry): ${p.packs.registry.length ? list(p.packs.registry) : 'none'}`,
    `Git packs (cloned from their remotes): ${p.packs.git.length ? list(p.packs.git.map(s => s.replace(/@([0-9a-f]{12})[0-9a-f]+$/, '@$1'))) : 'none'}`,
    `Python packages pinned from: ${p.python ?? 'no venv found'}`,
    ...filesText(p),
    ...p.not_adopted.map(n => `  not adopted: ${n.item} (${n.reason})`),
    `Target environment: ${p.target}`,
  ].join('\n')
}

function resultText (r: AdoptResult): string {
  return [
    `Adopt ${r.ok ? 'complete' : 'finished with problems'}: ${r.name}`,
    `Custom nodes: ${r.nodes.installed.length} registry/git installed, ${r.nodes.development.length} development ${r.preview.choices.devNodes === 'link' ? 'linked' : 'copied'}`,
    ...r.nodes.failed.map(f => `    ✗ ${f.id}: ${f.error.message.split('\n')[0]}`),
    r.pips.error ? `Python packages: none pinned (${r.pips.error.replace(/:\n/, ': ').replace(/\n/g, '; ')})` : `Python packages: ${r.pips.pinned.length} pinned`,
    `Models: ${r.models.indexed} indexed in ${r.models.dirs.length} folder(s), not copied`,
    `Workflows: ${r.workflows.tracked.length} copied and tracked${r.workflows.issues.length ? `, ${r.workflows.issues.length} issue(s)` : ''}`,
    ...r.workflows.issues.map(i => `    ⚠ ${i}`),
    ...(r.not_adopted.length ? [`Not adopted: ${r.not_adopted.length} (${list(r.not_adopted.map(n => n.item), 4)})`] : []),
    '', 'Next steps:', ...r.next_steps.map(s => `  ${s}`),
  ].join('\n')
}

/** On a terminal, asks about what the flags left open; scripts get the defaults the preview shows. */
async function askChoices (ctx: CliContext, p: AdoptPreview, given: Partial<AdoptChoices>): Promise<Partial<AdoptChoices>> {
  const out: Partial<AdoptChoices> = {}
  if (!ctx.interactive) return out
  // asked before any choice is made, so the preview lists every saved workflow
  if (given.workflows === undefined && p.workflows.length) {
    out.workflows = await ctx.select(`Your ${p.workflows.length} saved workflow(s) (${list(p.workflows, 4)}):`, [
      { name: 'copy and track them', value: 'copy' as const },
      { name: 'leave them out', value: 'skip' as const },
    ])
  }
  if (given.devNodes === undefined && p.dev_nodes.length) {
    out.devNodes = await ctx.select(`Your development nodes (${list(p.dev_nodes.map(d => `${d.dir}, ${size(d.bytes)}`))}):`, [
      { name: 'copy them (the environment gets its own copy; yours stays as it is)', value: 'copy' as const },
      { name: 'link them (the environment uses your folders: one working copy)', value: 'link' as const },
      { name: 'leave them out', value: 'skip' as const },
    ])
  }
  return out
}

export function registerAdoptCommands (program: Command): void {
  program
    .command('adopt <folder> [name]')
    .description('make a new environment from a ComfyUI you already have (left untouched): its version, packs, Python packages, models (used in place) and, as you choose, workflows and development nodes')
    .option('--python <interpreter>', 'the interpreter whose packages to adopt (default: the venv next to ComfyUI)')
    .addOption(new Option('--workflows <what>', 'your saved workflows: copy (into the environment, tracked) or skip; asked on a terminal, default copy').choices(['copy', 'skip']))
    .addOption(new Option('--dev-nodes <what>', 'your development nodes: copy, link (one working copy) or skip; asked on a terminal, default copy').choices(['copy', 'link', 'skip']))
    .option('--torch-backend <backend>', 'auto | cpu | cuXXX | rocmX | mps (kept on this machine only)', 'auto')
    .action(withContext<{ python?: string, torchBackend?: string, workflows?: AdoptChoices['workflows'], devNodes?: AdoptChoices['devNodes'] }>(async (ctx, [folder, name], opts) => {
      const { adoptInstall } = await import('../../adopt')
      const given: Partial<AdoptChoices> = { ...(opts.workflows ? { workflows: opts.workflows } : {}), ...(opts.devNodes ? { devNodes: opts.devNodes } : {}) }
      const res = await adoptInstall(await ctx.workspace(), folder, {
        name,
        python: opts.python,
        torchBackend: opts.torchBackend,
        choices: given,
        choose: p => askChoices(ctx, p, given),
        confirm: async p => { ctx.info(previewText(p)); return ctx.confirm('Create this environment?', { default: true }) },
        onProgress: ctx.onProgress, signal: ctx.signal,
      })
      ctx.print(res, () => resultText(res))
      // The environment exists, but scripts must notice what could not be carried over.
      if (!res.ok) process.exitCode = 1
    }))
}
