/**
 * @module A pinned pack: exactly what to fetch, and what goes into `[tool.comfydock.nodes.<id>]`.
 * Resolution produces it (network), materialising uses only it (cache first).
 */
import type { NodeEntry } from '../../manifest'

export type PinnedNode =
  | { kind: 'registry', id: string, name: string, version: string, downloadUrl: string, sha256?: string, repository?: string }
  | { kind: 'git', name: string, repository: string, commit: string, ref?: string, registryId?: string }
  | { kind: 'dev', name: string }

/** The manifest key: the registry id when there is one, else the folder name. */
export function pinnedId (pin: PinnedNode): string {
  if (pin.kind === 'registry') return pin.id
  if (pin.kind === 'git' && pin.registryId) return pin.registryId
  return pin.name
}

export function toNodeEntry (pin: PinnedNode, sha256?: string): NodeEntry {
  switch (pin.kind) {
    case 'registry':
      return { name: pin.name, registry_id: pin.id, repository: pin.repository, version: pin.version, source: 'registry', download_url: pin.downloadUrl, sha256: sha256 ?? pin.sha256 }
    case 'git':
      return { name: pin.name, registry_id: pin.registryId, repository: pin.repository, version: pin.commit, source: 'git', ref: pin.ref }
    case 'dev':
      return { name: pin.name, version: 'dev', source: 'development' }
  }
}

/** The pin a manifest entry describes (for reinstalling exactly what pyproject.toml says). */
export function pinFromEntry (id: string, e: NodeEntry): PinnedNode {
  if (e.source === 'registry' && e.download_url) {
    return { kind: 'registry', id: e.registry_id ?? id, name: e.name, version: e.version, downloadUrl: e.download_url, sha256: e.sha256, repository: e.repository }
  }
  if (e.source === 'git' || (e.source === 'registry' && e.repository && /^[0-9a-f]{40}$/.test(e.version))) {
    return { kind: 'git', name: e.name, repository: e.repository ?? '', commit: e.version, ref: e.ref, registryId: e.registry_id }
  }
  return { kind: 'dev', name: e.name }
}

export function describePin (pin: PinnedNode): string {
  if (pin.kind === 'registry') return `${pin.id}@${pin.version}`
  if (pin.kind === 'git') return `${pin.repository}@${pin.commit.slice(0, 12)}`
  return `${pin.name} (development)`
}
