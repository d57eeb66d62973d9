/**
 * @module Spec -> pinned pack. Registry ids go through the (cached) registry; git URLs resolve their
 * ref to a full commit against the local mirror; dev names are folders the user already has.
 */
import { basename, resolve } from 'node:path'
import { ComfydockError } from '../../errors'
import { isDirectory } from '../../fs'
import type { EnvPaths } from '../../workspace'
import { resolveRegistryVersion, type RegistryClient } from '../registry'
import { normalizeRepository } from '../resolver'
import { repoFolderName, type NodeSpec } from '../spec'
import type { GitStore } from '../store'
import type { PinnedNode } from './pinned'

export interface ResolveContext {
  env: EnvPaths
  registry: RegistryClient
  git: GitStore
  /** Called with a line worth showing (offline answers, fallbacks). */
  warn?: (message: string) => void
}

/** Local paths become absolute so the pin means the same thing from any working directory. */
export function localGitUrl (url: string): string {
  return /^[a-z+]+:\/\/|^git@/.test(url) ? url : resolve(url)
}

/**
 * The registry id of a pack added by git URL, so workflows (which name registry ids) and the manifest
 * agree, as the original tool does. Best effort: no answer leaves the pack keyed by its folder name.
 */
async function registryIdOf (url: string, ctx: ResolveContext): Promise<string | undefined> {
  if (!/^https?:\/\//.test(url)) return undefined
  try {
    const want = normalizeRepository(url)
    return (await ctx.registry.searchByRepository(url)).find(n => n.id && n.repository && normalizeRepository(n.repository) === want)?.id
  } catch {
    return undefined
  }
}

export async function resolveSpec (spec: NodeSpec, ctx: ResolveContext): Promise<PinnedNode> {
  if (spec.kind === 'dev') {
    const inCustomNodes = resolve(ctx.env.customNodes, spec.target)
    const dir = await isDirectory(inCustomNodes) ? inCustomNodes : resolve(spec.target)
    if (!(await isDirectory(dir)) || resolve(dir, '..') !== resolve(ctx.env.customNodes)) {
      throw new ComfydockError('NODE_NOT_FOUND', `no folder "${spec.target}" in ${ctx.env.customNodes}`, {
        hint: 'Put your node in ComfyUI/custom_nodes/<name>, then run `comfydock node add --dev <name>`.',
      })
    }
    return { kind: 'dev', name: basename(dir) }
  }
  if (spec.kind === 'git') {
    const url = localGitUrl(spec.url)
    const { commit, offline } = await ctx.git.resolve(url, spec.ref)
    if (offline) ctx.warn?.(`${url} is unreachable; using the cached mirror's ${spec.ref ?? 'HEAD'} (${commit.slice(0, 12)})`)
    const registryId = await registryIdOf(url, ctx)
    return { kind: 'git', name: repoFolderName(url), repository: url, commit, ref: spec.ref, ...(registryId ? { registryId } : {}) }
  }
  const { node, version } = await resolveRegistryVersion(ctx.registry, spec.id, spec.version)
  if (ctx.registry.servedStale) ctx.warn?.(`the Comfy Registry is unreachable; ${spec.id} resolved from the cache`)
  const name = node.repository ? repoFolderName(node.repository) : spec.id
  if (!version.downloadUrl) {
    if (!node.repository) {
      throw new ComfydockError('NODE_INSTALL_FAILED', `${spec.id}@${version.version} has neither a download URL nor a repository`)
    }
    ctx.warn?.(`${spec.id}@${version.version} has no registry archive; installing from ${node.repository} instead`)
    const { commit } = await ctx.git.resolve(node.repository)
    return { kind: 'git', name, repository: node.repository, commit, registryId: spec.id }
  }
  return { kind: 'registry', id: spec.id, name, version: version.version!, downloadUrl: version.downloadUrl, repository: node.repository }
}
