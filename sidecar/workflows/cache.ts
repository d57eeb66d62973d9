/**
 * @module The analysis cache: a workflow's resolution keyed by its content hash and the resolution context
 * (pyproject, model index files, installed packs), in SQLite at `cache/workflows-v1.db`. Anything that could
 * change an answer changes the key, so a hit is always current; the file is re-creatable.
 */
import type Database from 'better-sqlite3'
import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { lazyRequire } from '../lazy-require'
import type { EnvPaths, Workspace } from '../workspace'

const sqlite = lazyRequire<typeof Database>('better-sqlite3')

/** Bump when analysis or resolution output changes shape or meaning. */
// Bump whenever resolution results change meaning, so stale entries are never served.
const CACHE_VERSION = 2

function statKey (file: string): string {
  try {
    const s = statSync(file)
    return `${s.size}:${s.mtimeMs}`
  } catch {
    return '-'
  }
}

/** Everything outside the workflow file that can change its resolution. */
export function resolutionContext (ws: Workspace, env: EnvPaths, extra = ''): string {
  const h = createHash('sha256').update(`v${CACHE_VERSION}\0${extra}\0`)
  try { h.update(readFileSync(env.pyproject)) } catch { h.update('no-pyproject') }
  for (const f of [ws.paths.modelIndexDb, `${ws.paths.modelIndexDb}-wal`]) h.update(`\0${statKey(f)}`)
  try {
    for (const e of readdirSync(env.customNodes).sort()) h.update(`\0${e}:${statKey(`${env.customNodes}/${e}`)}`)
  } catch { h.update('\0no-custom-nodes') }
  return h.digest('hex').slice(0, 32)
}

export class AnalysisCache {
  private constructor (private readonly db: Database.Database) {}

  static open (ws: Workspace): AnalysisCache | undefined {
    try {
      mkdirSync(dirname(ws.cache.workflowsDb), { recursive: true })
      const db = new (sqlite())(ws.cache.workflowsDb)
      db.pragma('busy_timeout = 2000')
      db.pragma('journal_mode = WAL')
      db.exec('CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, value TEXT NOT NULL, used INTEGER NOT NULL)')
      return new AnalysisCache(db)
    } catch {
      return undefined // a broken cache only costs speed
    }
  }

  static key (content: Buffer, context: string): string {
    return `${createHash('sha256').update(content).digest('hex')}:${context}`
  }

  get<T> (key: string): T | undefined {
    const row = this.db.prepare('SELECT value FROM entries WHERE key = ?').get(key) as { value: string } | undefined
    return row ? JSON.parse(row.value) as T : undefined
  }

  set (key: string, value: unknown): void {
    this.db.prepare('INSERT OR REPLACE INTO entries (key, value, used) VALUES (?, ?, ?)').run(key, JSON.stringify(value), Date.now())
  }

  close (): void {
    if (this.db.open) this.db.close()
  }
}
