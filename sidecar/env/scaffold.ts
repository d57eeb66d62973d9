/**
 * @module The files of a new environment's `.cec/`: the initial pyproject (original tool's schema, §5),
 * `.python-version` and `.gitignore`. Machine-local settings go to the git-ignored local.json, never here.
 */
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ResolvedComfyui } from '../comfyui'
import { writeFileAtomic } from '../fs'
import { MANIFEST_SCHEMA_VERSION, writeManifest, type Pyproject } from '../manifest'
import { parseRequirementsTxt } from '../python'
import type { EnvPaths } from '../workspace'

/** What git must never record in `.cec`: machine-local state and scratch files. */
export const CEC_GITIGNORE = [
  '# machine-local settings and state (never shared)',
  'local.json',
  '.complete',
  'staging/',
  'logs/',
  '__pycache__/',
  '*.pyc',
  '*.tmp',
  '*.bak',
  '',
].join('\n')

/** ComfyUI's requirements.txt, as requirement lines; option lines are reported, not kept. */
export async function readComfyuiRequirements (comfyuiDir: string): Promise<{ requirements: string[], skipped: string[] }> {
  try {
    return parseRequirementsTxt(await readFile(join(comfyuiDir, 'requirements.txt'), 'utf8'))
  } catch {
    return { requirements: [], skipped: [] }
  }
}

export function initialManifest (envName: string, comfyui: ResolvedComfyui, pythonVersion: string, requirements: string[]): Pyproject {
  return {
    project: {
      name: `comfydock-env-${envName.toLowerCase()}`,
      version: '0.1.0',
      'requires-python': `>=${pythonVersion}`,
      dependencies: requirements,
    },
    tool: {
      comfydock: {
        schema_version: MANIFEST_SCHEMA_VERSION,
        comfyui_version: comfyui.version,
        comfyui_version_type: comfyui.type,
        comfyui_commit_sha: comfyui.commit,
        python_version: pythonVersion,
      },
    },
  }
}

export async function writeCecFiles (env: EnvPaths, doc: Pyproject, pythonVersion: string): Promise<void> {
  await mkdir(env.cecWorkflows, { recursive: true })
  await writeManifest(env.pyproject, doc)
  await writeFileAtomic(env.pythonVersionFile, `${pythonVersion}\n`)
  await writeFileAtomic(env.cecGitignore, CEC_GITIGNORE)
}
