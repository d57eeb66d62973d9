/**
 * @module The packs installed in an environment, as the resolver sees them: tracked manifest entries whose
 * folder is present plus untracked folders, matched by id, registry id, folder name or repository.
 */
import { readManifest, type NodeEntry, type Pyproject } from '../../manifest'
import type { EnvPaths } from '../../workspace'
import { scanCustomNodes } from '../scan-custom-nodes'

export interface InstalledPack {
  packId: string
  entry?: NodeEntry
  folder: string
}

export interface InstalledPacks {
  doc?: Pyproject
  packs: InstalledPack[]
  /** The installed pack a candidate id (registry id, folder, `user/repo`, repository URL) refers to. */
  find (packId: string, repository?: string): InstalledPack | undefined
  byFolder (folder: string): InstalledPack | undefined
}

/** `https://github.com/User/Repo.git/` and `User/Repo` both become `github.com/user/repo`. */
export function normalizeRepository (url: string): string {
  let s = url.trim().toLowerCase().replace(/\/+$/, '').replace(/\.git$/, '')
  s = s.replace(/^git\+/, '').replace(/^[a-z]+:\/\//, '').replace(/^git@([^:]+):/, '$1/')
  if (/^[\w.-]+\/[\w.-]+$/.test(s)) s = `github.com/${s}`
  return s
}

export async function loadInstalledPacks (env?: EnvPaths): Promise<InstalledPacks> {
  const doc = env ? await readManifest(env.pyproject) : undefined
  const scan = env ? await scanCustomNodes(env.customNodes) : { enabled: [], disabled: [] }
  const nodes = doc?.tool.comfydock.nodes ?? {}
  const packs: InstalledPack[] = []
  const tracked = new Set<string>()
  for (const [id, entry] of Object.entries(nodes)) {
    tracked.add(entry.name)
    if (scan.enabled.includes(entry.name)) packs.push({ packId: id, entry, folder: entry.name })
  }
  for (const folder of scan.enabled) if (!tracked.has(folder)) packs.push({ packId: folder, folder })
  const keys = new Map<string, InstalledPack>()
  for (const p of packs) {
    for (const k of [p.packId, p.folder, p.entry?.registry_id]) if (k) keys.set(k.toLowerCase(), p)
    if (p.entry?.repository) keys.set(normalizeRepository(p.entry.repository), p)
  }
  return {
    doc,
    packs,
    find (packId, repository) {
      return keys.get(packId.toLowerCase()) ?? keys.get(normalizeRepository(packId)) ??
        (repository ? keys.get(normalizeRepository(repository)) : undefined)
    },
    byFolder (folder) {
      return packs.find(p => p.folder === folder)
    },
  }
}
