/**
 * @module A pack's Python requirements: requirements.txt, else `[project].dependencies` of its own
 * pyproject.toml. install.py is never run; its presence is reported so the user knows.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parse } from 'smol-toml'
import { pathExists } from '../fs'
import { parseRequirementsTxt } from '../python'
import type { CheckedZip } from './archive/safe-extract-zip'

export interface PackRequirements {
  requirements: string[]
  /** Option lines and unreadable files, to be shown as warnings. */
  skipped: string[]
  hasInstallScript: boolean
}

export async function scanRequirements (packDir: string): Promise<PackRequirements> {
  return fromFiles({
    exists: name => pathExists(join(packDir, name)),
    read: name => readFile(join(packDir, name), 'utf8'),
  })
}

const SCANNED = ['requirements.txt', 'pyproject.toml', 'install.py']

/**
 * What `scanRequirements` finds in the folder `zip` extracts to, read from the archive before it is
 * extracted; undefined when it cannot tell without the files on disk (the archive has links, one of the
 * names is a folder or comes in another case).
 */
export async function scanArchiveRequirements (zip: CheckedZip): Promise<PackRequirements | undefined> {
  if (zip.hasLinks) return undefined
  // the last entry of a name is the file extraction leaves
  const entry = new Map<string, number>()
  for (const [i, path] of zip.paths.entries()) {
    const top = path.split('/')[0]
    if (!SCANNED.includes(top.toLowerCase())) continue
    // a folder of that name, or another case of it (one file on a case-insensitive disk)
    if (path !== top || !SCANNED.includes(top)) return undefined
    entry.set(top, i)
  }
  return fromFiles({
    exists: async name => entry.has(name),
    read: async name => (await zip.read(entry.get(name)!)).toString('utf8'),
  })
}

async function fromFiles (files: { exists (name: string): Promise<boolean>, read (name: string): Promise<string> }): Promise<PackRequirements> {
  const hasInstallScript = await files.exists('install.py')
  if (await files.exists('requirements.txt')) return { ...parseRequirementsTxt(await files.read('requirements.txt')), hasInstallScript }
  if (await files.exists('pyproject.toml')) {
    try {
      const doc = parse(await files.read('pyproject.toml')) as { project?: { dependencies?: unknown } }
      const deps = Array.isArray(doc.project?.dependencies) ? doc.project.dependencies.filter((d): d is string => typeof d === 'string') : []
      return { requirements: deps.map(d => d.trim()).filter(Boolean), skipped: [], hasInstallScript }
    } catch (err) {
      return { requirements: [], skipped: [`pyproject.toml unreadable: ${(err as Error).message}`], hasInstallScript }
    }
  }
  return { requirements: [], skipped: [], hasInstallScript }
}
