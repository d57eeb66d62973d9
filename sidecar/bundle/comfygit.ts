/**
 * @module ComfyGit (0.7) environments as comfydock manifests. ComfyGit keeps the manifest at the root of
 * the environment's repository (`.cec/` of its environment folder; `cg export` tars the same files):
 * `[tool.comfygit]` with `schema_version = 2`, nodes and workflows shaped like the original tool's, and a
 * model table keyed by an xxh3 short hash, which is not comfydock's BLAKE3 one. So models come over by
 * file name, folder and download sources, unresolved, and are matched against this workspace's index at
 * the next commit or `workflow resolve`. `uv.lock` is machine-specific there (git-ignored) and is not used.
 */
import type { Pyproject } from '../manifest'

export interface ComfygitConversion {
  doc: Pyproject
  notes: string[]
}

export function isComfygitManifest (doc: Pyproject): boolean {
  const c = doc.tool?.comfydock
  return (c === undefined || Object.keys(c).length === 0) && typeof doc.tool?.comfygit === 'object' && doc.tool.comfygit !== null
}

export function convertComfygitManifest (source: Pyproject): ComfygitConversion {
  const doc = structuredClone(source)
  const cg = doc.tool.comfygit as Record<string, unknown> & { models?: Record<string, { filename: string, sources?: string[], relative_path?: string, size?: number, category?: string }>, workflows?: Record<string, { models?: Array<Record<string, unknown>> }> }
  delete doc.tool.comfygit
  const notes: string[] = []
  const models = cg.models ?? {}
  delete cg.models
  const unknownKeys = Object.keys(cg).filter(k => !['schema_version', 'comfyui_version', 'comfyui_version_type', 'comfyui_commit_sha', 'python_version', 'nodes', 'workflows'].includes(k))
  for (const k of unknownKeys) notes.push(`[tool.comfygit] ${k} = ${JSON.stringify(cg[k])} is not used by comfydock; kept in the manifest as tool.comfygit_extra`)
  const extra = Object.fromEntries(unknownKeys.map(k => [k, cg[k]]))
  for (const k of unknownKeys) delete cg[k]
  if (unknownKeys.length) doc.tool.comfygit_extra = extra
  const byHash = new Map(Object.entries(models))
  let rehashed = 0
  for (const wf of Object.values(cg.workflows ?? {})) {
    for (const m of wf.models ?? []) {
      const known = typeof m.hash === 'string' ? byHash.get(m.hash) : undefined
      if (typeof m.hash === 'string') {
        m.comfygit_hash = m.hash
        delete m.hash
        rehashed++
      }
      m.status = 'unresolved'
      if (known?.sources?.length) m.sources = [...new Set([...(Array.isArray(m.sources) ? m.sources as string[] : []), ...known.sources])]
      if (known?.relative_path) m.relative_path = known.relative_path
    }
  }
  if (rehashed) notes.push(`${rehashed} model reference(s) carry ComfyGit's xxh3 hashes, not comfydock's: they are matched by file name and folder here (\`comfydock commit\` or \`workflow resolve\` records them by hash)`)
  // ComfyGit's own tooling (its uv), installed into every environment it makes: not the user's.
  const groups = doc['dependency-groups'] ?? {}
  if (groups['comfygit-system']) {
    notes.push(`ComfyGit's own packages (dependency group comfygit-system: ${groups['comfygit-system'].join(', ')}) are left out`)
    delete groups['comfygit-system']
  }
  doc.tool.comfydock = { ...cg, schema_version: 1 } as Pyproject['tool']['comfydock']
  const schema = cg.schema_version
  if (schema !== undefined && schema !== 2) notes.push(`ComfyGit manifest schema_version ${String(schema)} (this reader knows 2)`)
  return { doc, notes }
}
