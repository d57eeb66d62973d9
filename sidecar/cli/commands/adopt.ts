/** @module `adopt`: an environment from a ComfyUI the user already has, which stays untouched. */
import type { Command } from 'commander'
import type { AdoptPreview, AdoptResult } from '../../adopt'
import { withContext } from '../context'

const list = (items: string[], max = 6): string => items.slice(0, max).join(', ') + (items.length > max ? `, +${items.length - max} more` : '')

function previewText (p: AdoptPreview): string {
  return [
    `Adopting ${p.source} (it is only read, never changed)`,
    `ComfyUI: ${p.comfyui.version ?? '?'}${p.comfyui.commit ? ` (${p.comfyui.commit.slice(0, 12)})` : ''}`,
    `Registry packs: ${p.packs.registry.length ? list(p.packs.registry) : 'none'}`,
    `Git packs: ${p.packs.git.length ? list(p.packs.git.map(s => s.replace(/@([0-9a-f]{12})[0-9a-f]+$/, '@$1'))) : 'none'}`,
    `Development nodes (copied): ${p.packs.development.length ? list(p.packs.development) : 'none'}`,
    `Python packages from: ${p.python ?? 'no venv found'}`,
    `Models indexed in place: ${p.model_dirs.join(', ')}`,
    `Workflows: ${p.workflows.length}`,
    ...p.not_adopted.map(n => `  not adopted: ${n.item} (${n.reason})`),
    `Target environment: ${p.target}`,
  ].join('\n')
}

function resultText (r: AdoptResult): string {
  return [
    `Adopt ${r.ok ? 'complete' : 'finished with problems'}: ${r.name}`,
    `Custom nodes: ${r.nodes.installed.length} registry/git installed, ${r.nodes.development.length} development copied`,
    ...r.nodes.failed.map(f => `    ✗ ${f.id}: ${f.error.message.split('\n')[0]}`),
    r.pips.error ? `Python packages: none pinned (${r.pips.error.replace(/:\n/, ': ').replace(/\n/g, '; ')})` : `Python packages: ${r.pips.pinned.length} pinned`,
    `Models: ${r.models.indexed} indexed in ${r.models.dirs.length} folder(s), not copied`,
    `Workflows: ${r.workflows.tracked.length} tracked${r.workflows.issues.length ? `, ${r.workflows.issues.length} issue(s)` : ''}`,
    ...r.workflows.issues.map(i => `    ⚠ ${i}`),
    ...(r.not_adopted.length ? [`Not adopted: ${r.not_adopted.length} (${list(r.not_adopted.map(n => n.item), 4)})`] : []),
    '', 'Next steps:', ...r.next_steps.map(s => `  ${s}`),
  ].join('\n')
}

export function registerAdoptCommands (program: Command): void {
  program
    .command('adopt <folder> [name]')
    .description('make a new environment from a ComfyUI you already have (left untouched): its version, packs, Python packages, models (indexed in place) and workflows')
    .option('--python <interpreter>', 'the interpreter whose packages to adopt (default: the venv next to ComfyUI)')
    .option('--torch-backend <backend>', 'auto | cpu | cuXXX | rocmX | mps (kept on this machine only)', 'auto')
    .action(withContext<{ python?: string, torchBackend?: string }>(async (ctx, [folder, name], opts) => {
      const { adoptInstall } = await import('../../adopt')
      const res = await adoptInstall(await ctx.workspace(), folder, {
        name,
        python: opts.python,
        torchBackend: opts.torchBackend,
        confirm: async p => { ctx.info(previewText(p)); return ctx.confirm('Create this environment?', { default: true }) },
        onProgress: ctx.onProgress,
      })
      ctx.print(res, () => resultText(res))
      // The environment exists, but scripts must notice what could not be carried over.
      if (!res.ok) process.exitCode = 1
    }))
}
