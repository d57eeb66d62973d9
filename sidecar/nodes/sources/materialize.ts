/**
 * @module Puts a pinned pack into a folder, from the workspace cache when it is there: a registry zip
 * (sha256 checked against the pin) is extracted safely, a git pack is checked out at its commit.
 * `dest` must not exist; on failure nothing is left behind.
 */
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ComfydockError } from '../../errors'
import type { OnProgress } from '../../protocol'
import { openCheckedZip, type CheckedZip } from '../archive/safe-extract-zip'
import type { ArchiveStore, GitStore } from '../store'
import { describePin, type PinnedNode } from './pinned'

/** ComfyUI-Manager's list of the files a registry archive extracted, in the pack's folder. */
export const TRACKING_FILE = '.tracking'

export interface NodeStores {
  archives: ArchiveStore
  git: GitStore
}

export interface MaterializeOptions {
  onProgress?: OnProgress
  signal?: AbortSignal
}

export interface Materialized {
  /** sha256 of the registry zip. */
  sha256?: string
  /** True when no download was needed. */
  cached: boolean
}

/** A registry pack's archive, checked and not yet extracted. */
export interface OpenedArchive extends Materialized {
  sha256: string
  zip: CheckedZip
  /** Extracts it into `dest`, with its `.tracking`; on failure nothing is left there. */
  extract (): Promise<void>
}

/**
 * A registry pin's archive from the store (sha256 checked against the pin), opened and checked against
 * `dest`, so that what it holds can be read while it is extracted. Extract it or close its zip.
 */
export async function openRegistryArchive (pin: Extract<PinnedNode, { kind: 'registry' }>, dest: string, stores: NodeStores, opts: MaterializeOptions = {}): Promise<OpenedArchive> {
  const archive = await stores.archives.fetch(pin.downloadUrl, pin.sha256, { ...opts, label: describePin(pin) })
  const zip = await openCheckedZip(archive.file, dest)
  return {
    sha256: archive.sha256,
    cached: archive.cached,
    zip,
    extract: async () => {
      try {
        const entries = await zip.extract()
        // ComfyUI-Manager's mark of a registry install (what it extracted, one name a line): without it,
        // cm-cli takes the pack for an unknown one and `save-snapshot` leaves it out of cnr_custom_nodes.
        await writeFile(join(dest, TRACKING_FILE), entries.join('\n'))
      } catch (err) {
        await rm(dest, { recursive: true, force: true })
        throw err
      }
    },
  }
}

export async function materializePin (pin: PinnedNode, dest: string, stores: NodeStores, opts: MaterializeOptions = {}): Promise<Materialized> {
  if (pin.kind === 'dev') throw new ComfydockError('NODE_INSTALL_FAILED', `${pin.name} is a development node; comfydock never copies or downloads it`, { hint: 'Put its folder back into ComfyUI/custom_nodes/.' })
  try {
    if (pin.kind === 'registry') {
      const opened = await openRegistryArchive(pin, dest, stores, opts)
      await opened.extract()
      return { sha256: opened.sha256, cached: opened.cached }
    }
    await stores.git.checkout(pin.repository, pin.commit, dest)
    return { cached: true }
  } catch (err) {
    await rm(dest, { recursive: true, force: true })
    throw err
  }
}
