/**
 * @module What bundles of the original tool (comfydock-cli 1.0.x) hold that this comfydock pins
 * differently, made right before the import installs anything: a git pack pinned by the tag or branch the
 * user asked for becomes the commit it points at (the ref is kept), a registry pack's archive URL is taken
 * from the configured registry when it has that version (the bundled URL may be a mirror only the exporter
 * reached), and torch pins in `[tool.uv]` constraint-dependencies, which describe the exporter's GPU, are
 * dropped (the torch backend is machine-local here). Each change is reported.
 */
import type { Pyproject } from '../manifest'
import { openRegistry } from '../nodes/registry'
import { createGitStore } from '../nodes/store'
import { isMachineLocalPackage } from './foreign-snapshot'
import { requirementName } from '../python'
import type { Workspace } from '../workspace'

export async function normalizeLegacyManifest (ws: Workspace, source: Pyproject): Promise<{ doc: Pyproject, notes: string[] }> {
  const doc = structuredClone(source)
  const notes: string[] = []
  const git = createGitStore(ws.cache.nodes)
  const registry = openRegistry(ws)
  for (const [id, n] of Object.entries(doc.tool.comfydock.nodes ?? {})) {
    if (n.source === 'git' && n.repository && !/^[0-9a-f]{40}$/i.test(n.version)) {
      try {
        const { commit } = await git.resolve(n.repository, n.version)
        notes.push(`pack ${id} was pinned by "${n.version}"; installing the commit it points at, ${commit.slice(0, 12)}`)
        n.ref = n.version
        n.version = commit
      } catch (err) {
        notes.push(`pack ${id}: cannot resolve "${n.version}" in ${n.repository} (${(err as Error).message.split('\n')[0]})`)
      }
    }
    if (n.source === 'registry') {
      const found = await registry.getVersion(n.registry_id ?? id, n.version).catch(() => undefined)
      if (found?.downloadUrl && found.downloadUrl !== n.download_url) {
        notes.push(`pack ${id}@${n.version}: archive from the registry (${found.downloadUrl}) instead of the bundled ${n.download_url ?? '(none)'}`)
        n.download_url = found.downloadUrl
      }
    }
  }
  const uv = doc.tool.uv as { 'constraint-dependencies'?: unknown } | undefined
  const constraints = uv?.['constraint-dependencies']
  if (uv && Array.isArray(constraints)) {
    const local = constraints.filter((c): c is string => typeof c === 'string' && isMachineLocalPackage(requirementName(c)))
    if (local.length) {
      uv['constraint-dependencies'] = constraints.filter(c => !local.includes(c as string))
      notes.push(`machine-local pins dropped from [tool.uv] constraint-dependencies: ${local.join(', ')} (torch follows this machine's backend)`)
    }
  }
  return { doc, notes }
}
