/**
 * Real hostile inputs for the attack-family tests: bundles as .tar.gz files built with tar, and
 * environments whose committed pyproject.toml came from someone else (a pull, a hand edit), laid out
 * on disk with a real .cec git repository. Commands run through the built CLI, as a user runs them.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

const ID = ['-c', 'user.name=Someone Else', '-c', 'user.email=else@example.com', '-c', 'commit.gpgsign=false']

export function git (dir: string, ...args: string[]): string {
  return execFileSync('git', ['-C', dir, ...ID, ...args], { encoding: 'utf8' }).trim()
}

/** A bundle's manifest.json, valid in every field. */
export function bundleManifest (name: string, workflows: string[] = []): Record<string, unknown> {
  return {
    format: 'comfydock-bundle',
    format_version: 1,
    timestamp: '2026-12-01T00:00:00Z',
    comfydock_version: '0.1.0',
    environment_name: name,
    workflows,
    dev_nodes: [],
    python_version: '3.11',
    comfyui_version: 'v0.3.7',
    platform: 'linux',
    total_models: 0,
    total_nodes: 0,
    totals: { workflows: workflows.length, nodes: 0, registry_nodes: 0, git_nodes: 0, dev_nodes: 0, models: 0, model_bytes: 0 },
  }
}

/** Writes `files` (path -> text) under a stage folder and tars them into `out` (.tar.gz). */
export function writeBundle (out: string, files: Record<string, string>): string {
  const stage = `${out}.stage`
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(stage, rel)), { recursive: true })
    writeFileSync(join(stage, rel), text)
  }
  execFileSync('tar', ['czf', out, '-C', stage, ...Object.keys(files)])
  return out
}

export const PROJECT = `[project]
name = "comfydock-env-victim"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = []
`

/**
 * An environment folder as `create` leaves it, but with `pyproject` (raw TOML, so it can hold what
 * comfydock itself would never write) committed in .cec. No venv: the commands under test must refuse
 * before they need one.
 */
export function envOnDisk (wsRoot: string, name: string, pyproject: string, files: Record<string, string> = {}): { root: string, cec: string, customNodes: string, userWorkflows: string } {
  const root = join(wsRoot, 'environments', name)
  const cec = join(root, '.cec')
  const customNodes = join(root, 'ComfyUI', 'custom_nodes')
  const userWorkflows = join(root, 'ComfyUI', 'user', 'default', 'workflows')
  for (const d of [join(cec, 'workflows'), customNodes, userWorkflows]) mkdirSync(d, { recursive: true })
  writeFileSync(join(cec, 'pyproject.toml'), pyproject)
  writeFileSync(join(cec, '.python-version'), '3.11\n')
  writeFileSync(join(cec, '.gitignore'), 'local.json\n.complete\n')
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true })
    writeFileSync(join(root, rel), text)
  }
  writeFileSync(join(cec, '.complete'), '')
  execFileSync('git', ['init', '-q', '-b', 'main', cec])
  git(cec, 'add', '-A')
  git(cec, 'commit', '-q', '-m', 'from elsewhere')
  return { root, cec, customNodes, userWorkflows }
}

/** A folder with a file in it, to check nothing touched it. */
export function makeVictim (path: string): { path: string, file: string, text: string } {
  mkdirSync(path, { recursive: true })
  const file = join(path, 'precious.txt')
  const text = `nobody may touch ${path}\n`
  writeFileSync(file, text)
  return { path, file, text }
}
