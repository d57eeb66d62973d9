/**
 * @module The files of a development node that go into a bundle: everything its .gitignore keeps
 * (the `ignore` library reads it as git would), minus git metadata and Python bytecode. Symbolic
 * links are left out (they could point anywhere on the exporter's machine); secret-looking files
 * are reported so the exporter is warned before sharing them.
 */
import { lstat, readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import ignore, { type Ignore } from 'ignore'

export interface DevNodeFile {
  /** Path relative to the node folder, forward slashes. */
  rel: string
  abs: string
  size: number
  executable: boolean
}

export interface DevNodeFiles {
  files: DevNodeFile[]
  bytes: number
  /** Relative paths of files that look like credentials or keys. */
  secrets: string[]
  /** Relative paths of symbolic links that were left out. */
  skippedLinks: string[]
}

const ALWAYS_IGNORED = ['.git', '__pycache__/', '*.pyc', '*.pyo', '.DS_Store']

const SECRET_PATTERNS = [
  /(^|\/)\.env(\..+)?$/, /\.pem$/, /\.key$/, /\.p12$/, /\.pfx$/, /(^|\/)id_(rsa|dsa|ecdsa|ed25519)$/,
  /(^|\/)\.netrc$/, /(^|\/)\.npmrc$/, /(^|\/)\.pypirc$/, /(^|\/)credentials(\.json)?$/, /(^|\/)secrets?\.(json|ya?ml|toml)$/,
]

export function looksLikeSecret (rel: string): boolean {
  return SECRET_PATTERNS.some(p => p.test(rel))
}

async function loadIgnore (dir: string): Promise<Ignore> {
  const ig = ignore().add(ALWAYS_IGNORED)
  try {
    ig.add(await readFile(join(dir, '.gitignore'), 'utf8'))
  } catch { /* no .gitignore: only the defaults apply */ }
  return ig
}

/** Walks `dir` in sorted order, applying the node's .gitignore files (top-level and nested) like git. */
export async function listDevNodeFiles (dir: string): Promise<DevNodeFiles> {
  const result: DevNodeFiles = { files: [], bytes: 0, secrets: [], skippedLinks: [] }
  const rootIgnore = await loadIgnore(dir)
  const walk = async (current: string, rules: Array<{ base: string, ig: Ignore }>): Promise<void> => {
    const entries = (await readdir(current, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))
    for (const entry of entries) {
      const abs = join(current, entry.name)
      const rel = relative(dir, abs).split('\\').join('/')
      const isDir = entry.isDirectory()
      if (rules.some(r => r.ig.ignores(relative(r.base, abs).split('\\').join('/') + (isDir ? '/' : '')))) continue
      if (entry.isSymbolicLink()) { result.skippedLinks.push(rel); continue }
      if (isDir) {
        await walk(abs, [...rules, ...await nestedIgnore(abs)])
        continue
      }
      if (!entry.isFile()) continue
      const s = await lstat(abs)
      result.files.push({ rel, abs, size: s.size, executable: (s.mode & 0o111) !== 0 })
      result.bytes += s.size
      if (looksLikeSecret(rel)) result.secrets.push(rel)
    }
  }
  const nestedIgnore = async (sub: string): Promise<Array<{ base: string, ig: Ignore }>> => {
    try {
      return [{ base: sub, ig: ignore().add(await readFile(join(sub, '.gitignore'), 'utf8')) }]
    } catch {
      return []
    }
  }
  await walk(dir, [{ base: dir, ig: rootIgnore }])
  return result
}
