/**
 * @module What in a manifest will not resolve on another machine: pack and model sources that are a
 * local path, a `file://` URL or a loopback address. Every export warns about them, whatever its format.
 */
import type { Pyproject } from '../manifest'
import { isLocalOnlySource } from './foreign-snapshot'

/** One warning line per pack or model whose source only this machine can reach. */
export function localOnlySourceWarnings (doc: Pyproject): string[] {
  const c = doc.tool.comfydock
  const out: string[] = []
  for (const [id, n] of Object.entries(c.nodes ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    if (n.source === 'development') continue
    const local = [n.repository, n.download_url].filter((u): u is string => typeof u === 'string' && isLocalOnlySource(u))
    if (local.length) out.push(`pack ${id} comes from ${local[0]}, which will not resolve on another machine (publish it, or add it from its public URL: \`comfydock node add <url>\`)`)
  }
  const models = new Map<string, { filename: string, sources: string[] }>()
  for (const [hash, m] of Object.entries(c.models ?? {})) models.set(hash, { filename: m.filename, sources: m.sources ?? [] })
  for (const wf of Object.values(c.workflows ?? {})) {
    for (const m of wf.models ?? []) {
      const key = m.hash ?? `${m.category}/${m.filename}`
      const prev = models.get(key)
      models.set(key, { filename: m.filename, sources: [...new Set([...(prev?.sources ?? []), ...(m.sources ?? [])])] })
    }
  }
  for (const m of [...models.values()].sort((a, b) => a.filename.localeCompare(b.filename))) {
    const local = m.sources.filter(isLocalOnlySource)
    if (local.length && local.length === m.sources.length) {
      out.push(`model ${m.filename} can only be downloaded from ${local[0]}, which will not resolve on another machine (record a public source with \`comfydock model find-source ${m.filename}\`)`)
    }
  }
  return [...new Set(out)]
}
