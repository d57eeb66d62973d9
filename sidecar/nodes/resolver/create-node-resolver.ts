/**
 * @module "Which pack provides node type T?" Sources in a fixed order: the environment's own map in
 * pyproject (`custom_node_map`), the node's `cnr_id`/`aux_id`/`ver`, the packs installed in the
 * environment, the registry, then node_mappings.json. Every candidate is returned, ranked; nothing is
 * picked here (see pick-candidate.ts). Network sources are asked only when the local ones know nothing,
 * unless `exhaustive` is set.
 */
import { ComfydockError } from '../../errors'
import { note } from '../../progress'
import type { OnProgress } from '../../protocol'
import type { EnvPaths, Workspace } from '../../workspace'
import { openRegistry, workspaceResponseCache } from '../registry/open'
import type { RegistryClient } from '../registry/client'
import { inputSignatureKey, typeOnlyKey } from './input-signature'
import { loadInstalledPacks, normalizeRepository, type InstalledPacks } from './installed-packs'
import { loadNodeMappings, type NodeMappings } from './node-mappings'
import { packClasses, scanPackClasses } from '../node-classes'
import { join } from 'node:path'

export interface NodeTypeQuery {
  type: string
  cnrId?: string
  auxId?: string
  ver?: string
  /** Input name -> type, for the signature keys of node_mappings.json. */
  inputs?: Record<string, string>
  /** The tracked workflow the node is in: its `custom_node_map` is asked before the others'. */
  workflow?: string
}

export type CandidateSource = 'manifest' | 'workflow' | 'installed' | 'registry' | 'mappings'

export interface PackCandidate {
  packId: string
  source: CandidateSource
  version?: string
  rank: number
  installed: boolean
  repository?: string
}

export interface NodeTypeResolution {
  type: string
  /** Ranked, best first. */
  candidates: PackCandidate[]
  /** ComfyUI itself provides the type (`cnr_id = "comfy-core"`, or a non-custom `python_module`). */
  core?: boolean
  /** The environment maps the type to `false`: no pack needed. */
  optional?: boolean
}

export interface NodeResolverOptions {
  /** `/api/object_info` of the running ComfyUI, when there is one. */
  objectInfo?: Record<string, { python_module?: string }>
  /** Ask the registry and node_mappings.json even when a local source already answered. */
  exhaustive?: boolean
  /** false: never touch the network or its cache (offline resolution from local sources only). */
  network?: boolean
  signal?: AbortSignal
  onProgress?: OnProgress
}

export interface NodeResolver {
  resolve (queries: NodeTypeQuery[]): Promise<NodeTypeResolution[]>
}

type Draft = Omit<PackCandidate, 'rank' | 'installed'>

export function createNodeResolver (ws: Workspace, env?: EnvPaths, opts: NodeResolverOptions = {}): NodeResolver {
  let installedP: Promise<InstalledPacks> | undefined
  let classesP: Promise<Map<string, Draft[]>> | undefined
  let mappingsP: Promise<NodeMappings | undefined> | undefined
  let registry: RegistryClient | undefined
  const warned = new Set<string>()
  const warn = (key: string, message: string): void => {
    if (warned.has(key)) return
    warned.add(key)
    note(opts.onProgress, 'warn', message)
  }
  const useNetwork = opts.network !== false
  const reg = (): RegistryClient => (registry ??= openRegistry(ws, { signal: opts.signal }))
  const installed = (): Promise<InstalledPacks> => (installedP ??= loadInstalledPacks(env))

  /**
   * Without object_info: the classes each pack provides. Recorded in the manifest or read from the pack's
   * source first (no network: status and prune agree offline); the registry's data only for a registry
   * pack whose source names none.
   */
  const installedClasses = (): Promise<Map<string, Draft[]>> => (classesP ??= (async () => {
    const map = new Map<string, Draft[]>()
    const add = (cls: string, d: Draft): void => { const list = map.get(cls) ?? []; list.push(d); map.set(cls, list) }
    const inst = await installed()
    const known = env && inst.doc ? await packClasses(env, inst.doc) : new Map<string, string[]>()
    for (const [id, classes] of known) {
      const e = inst.doc!.tool.comfydock.nodes![id]
      for (const c of classes) add(c, { packId: id, source: 'installed', version: e.version, repository: e.repository })
    }
    for (const p of inst.packs) {
      if (p.entry || !env) continue
      for (const c of await scanPackClasses(join(env.customNodes, p.folder))) add(c, { packId: p.packId, source: 'installed' })
    }
    if (!useNetwork) return map
    for (const p of inst.packs) {
      const e = p.entry
      if (!e?.registry_id || e.source === 'development' || known.has(p.packId)) continue
      try {
        // A git pack's commit has no registry version: its latest published version stands in for it.
        const version = e.source === 'registry' ? e.version : (await reg().getNode(e.registry_id))?.latest_version?.version
        if (!version) continue
        for (const c of await reg().versionClasses(e.registry_id, version)) {
          if (c.comfy_node_name) add(c.comfy_node_name, { packId: p.packId, source: 'installed', version: e.version, repository: e.repository })
        }
      } catch (err) {
        warn('installed-classes', `could not read the node classes of installed packs from the registry: ${(err as Error).message}`)
      }
    }
    return map
  })())

  const mappings = (): Promise<NodeMappings | undefined> => (mappingsP ??= (async () => {
    try {
      const m = await loadNodeMappings(ws.config().node_mappings_url, workspaceResponseCache(ws), { signal: opts.signal })
      if (m.stale) warn('mappings-stale', 'node mappings source unreachable; using the cached node_mappings.json')
      return m
    } catch (err) {
      warn('mappings', `node mappings unavailable: ${(err as Error).message}`)
      return undefined
    }
  })())

  async function registryDrafts (type: string): Promise<Draft[]> {
    const out: Draft[] = []
    try {
      const ranked = await reg().nodeForClass(type)
      if (ranked?.id) out.push({ packId: ranked.id, source: 'registry', version: ranked.latest_version?.version, repository: ranked.repository })
      for (const n of await reg().searchByClass(type)) {
        if (n.id) out.push({ packId: n.id, source: 'registry', version: n.latest_version?.version, repository: n.repository })
      }
    } catch (err) {
      if (err instanceof ComfydockError && err.code === 'CANCELLED') throw err
      warn('registry', `registry look-up failed: ${(err as Error).message}`)
    }
    if (registry?.servedStale) warn('registry-stale', `the Comfy Registry (${registry.baseUrl}) is unreachable; answers come from the cache`)
    return out
  }

  function mappingDrafts (m: NodeMappings, q: NodeTypeQuery): Draft[] {
    const keys = q.inputs && Object.keys(q.inputs).length ? [inputSignatureKey(q.type, q.inputs), typeOnlyKey(q.type)] : [typeOnlyKey(q.type)]
    return keys.flatMap(k => m.lookup(k)).map(e => ({ packId: e.package_id, source: 'mappings' as const, version: e.versions?.[0], repository: m.repository(e.package_id) }))
  }

  async function resolveOne (q: NodeTypeQuery): Promise<NodeTypeResolution> {
    const inst = await installed()
    const drafts: Draft[] = []
    const res: NodeTypeResolution = { type: q.type, candidates: [] }

    const maps = Object.entries(inst.doc?.tool.comfydock.workflows ?? {})
      .sort(([a], [b]) => Number(b === q.workflow) - Number(a === q.workflow))
      .map(([, wf]) => wf.custom_node_map ?? {})
    for (const map of maps) {
      const v = map[q.type]
      if (v === false) res.optional = true
      else if (typeof v === 'string') drafts.push({ packId: v, source: 'manifest' })
      if (v !== undefined) break
    }

    if (q.cnrId === 'comfy-core') res.core = true
    else if (q.cnrId) drafts.push({ packId: q.cnrId, source: 'workflow', version: q.ver })
    if (q.auxId && !q.cnrId) drafts.push({ packId: q.auxId, source: 'workflow', version: q.ver, repository: `https://github.com/${q.auxId}` })

    const info = opts.objectInfo?.[q.type]
    if (info) {
      const mod = info.python_module ?? ''
      if (mod.startsWith('custom_nodes.')) {
        const folder = mod.split('.')[1]
        const p = inst.byFolder(folder)
        drafts.push({ packId: p?.packId ?? folder, source: 'installed', version: p?.entry?.version, repository: p?.entry?.repository })
      } else if (drafts.length === 0) {
        res.core = true
      }
    } else if (!opts.objectInfo && !res.core && !res.optional && (drafts.length === 0 || opts.exhaustive)) {
      drafts.push(...((await installedClasses()).get(q.type) ?? []))
    }

    const answered = drafts.length > 0 || res.core || res.optional
    if (useNetwork && (!answered || opts.exhaustive)) {
      drafts.push(...await registryDrafts(q.type))
      const m = await mappings()
      if (m) drafts.push(...mappingDrafts(m, q))
    }

    const seen = new Map<string, PackCandidate>()
    for (const d of drafts) {
      const key = normalizeRepository(d.packId)
      const isInstalled = inst.find(d.packId, d.repository) !== undefined
      const prev = seen.get(key)
      if (prev) {
        prev.version ??= d.version
        prev.repository ??= d.repository
        continue
      }
      const c: PackCandidate = { packId: d.packId, source: d.source, rank: seen.size + 1, installed: isInstalled }
      if (d.version) c.version = d.version
      if (d.repository) c.repository = d.repository
      seen.set(key, c)
    }
    res.candidates = [...seen.values()]
    return res
  }

  return {
    async resolve (queries) {
      const out: NodeTypeResolution[] = []
      for (const q of queries) out.push(await resolveOne(q))
      return out
    },
  }
}
