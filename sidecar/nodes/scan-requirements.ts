/**
 * @module A pack's Python requirements: requirements.txt, else `[project].dependencies` of its own
 * pyproject.toml. install.py is never run; its presence is reported so the user knows.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parse } from 'smol-toml'
import { pathExists } from '../fs'
import { parseRequirementsTxt } from '../python'

export interface PackRequirements {
  requirements: string[]
  /** Option lines and unreadable files, to be shown as warnings. */
  skipped: string[]
  hasInstallScript: boolean
}

export async function scanRequirements (packDir: string): Promise<PackRequirements> {
  const hasInstallScript = await pathExists(join(packDir, 'install.py'))
  const txt = join(packDir, 'requirements.txt')
  if (await pathExists(txt)) return { ...parseRequirementsTxt(await readFile(txt, 'utf8')), hasInstallScript }
  const pyproject = join(packDir, 'pyproject.toml')
  if (await pathExists(pyproject)) {
    try {
      const doc = parse(await readFile(pyproject, 'utf8')) as { project?: { dependencies?: unknown } }
      const deps = Array.isArray(doc.project?.dependencies) ? doc.project.dependencies.filter((d): d is string => typeof d === 'string') : []
      return { requirements: deps.map(d => d.trim()).filter(Boolean), skipped: [], hasInstallScript }
    } catch (err) {
      return { requirements: [], skipped: [`pyproject.toml unreadable: ${(err as Error).message}`], hasInstallScript }
    }
  }
  return { requirements: [], skipped: [], hasInstallScript }
}
