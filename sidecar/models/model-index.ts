/**
 * @module The workspace-wide model index (better-sqlite3): models by short hash, their locations
 * and download sources. WAL and a busy timeout let the CLI and the sidecar use the file at once.
 */
import type Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { ComfydockError } from '../errors'
import { lazyRequire } from '../lazy-require'
import type { Workspace } from '../workspace'
import { migrate } from './index-schema'
import { toRelPath, type IndexedModel, type ModelSource, type SourceType } from './types'

const sqlite = lazyRequire<typeof Database>('better-sqlite3')

interface ModelRow { hash: string, size: number, blake3: string | null, sha256: string | null }
interface LocationRow { model_hash: string, base_dir: string, rel_path: string, mtime: number }
interface SourceRow { model_hash: string, type: string, url: string, unverified: number | null }

export interface LocationRecord { id: number, model_hash: string, rel_path: string, size: number, mtime: number }

export class ModelIndex {
  readonly db: Database.Database
  readonly file: string

  private constructor (db: Database.Database, file: string) {
    this.db = db
    this.file = file
  }

  static open (ws: Workspace): ModelIndex {
    return ModelIndex.openFile(ws.paths.modelIndexDb)
  }

  static openFile (file: string): ModelIndex {
    mkdirSync(dirname(file), { recursive: true })
    let db: Database.Database
    try {
      db = new (sqlite())(file)
      db.pragma('busy_timeout = 5000')
      db.pragma('journal_mode = WAL')
      db.pragma('foreign_keys = ON')
      db.pragma('synchronous = NORMAL')
    } catch (err) {
      throw new ComfydockError('INDEX_ERROR', `cannot open the model index ${file}: ${(err as Error).message}`, {
        hint: 'If the file is corrupt, move it away and run `comfydock model index sync` to rebuild it (sources found by download or find-source are lost).',
        cause: err,
      })
    }
    try {
      migrate(db, file)
    } catch (err) {
      db.close()
      throw err
    }
    return new ModelIndex(db, file)
  }

  private readonly statements = new Map<string, Database.Statement>()

  /** Prepared once per SQL text: preparing costs more than running these small statements. */
  private stmt (sql: string): Database.Statement {
    let s = this.statements.get(sql)
    if (!s) { s = this.db.prepare(sql); this.statements.set(sql, s) }
    return s
  }

  close (): void {
    if (this.db.open) this.db.close()
  }

  get (hash: string): IndexedModel | undefined {
    const row = this.stmt('SELECT hash, size, blake3, sha256 FROM models WHERE hash = ?').get(hash.toLowerCase()) as ModelRow | undefined
    return row ? this.hydrate([row])[0] : undefined
  }

  /** Short hash, full BLAKE3 or full SHA-256; a prefix of any of them is enough. */
  findByHash (query: string): IndexedModel[] {
    const q = query.toLowerCase().replace(/^(blake3|sha256):/, '')
    if (!/^[0-9a-f]+$/.test(q)) return []
    const like = `${q}%`
    const rows = this.stmt('SELECT hash, size, blake3, sha256 FROM models WHERE hash LIKE ? OR blake3 LIKE ? OR sha256 LIKE ? ORDER BY hash')
      .all(like, like, like) as ModelRow[]
    return this.hydrate(rows)
  }

  /** Exact relative path, "checkpoints/sub/file.safetensors", in any tracked directory. */
  findByPath (relPath: string): IndexedModel[] {
    return this.byLocation('l.rel_path = ?', toRelPath(relPath))
  }

  /** A base name found anywhere. */
  findByFilename (name: string): IndexedModel[] {
    return this.byLocation('l.filename = ?', name)
  }

  /** Models present on disk, optionally only in one folder ("loras"). */
  list (opts: { folder?: string } = {}): IndexedModel[] {
    return opts.folder
      ? this.byLocation("l.rel_path LIKE ? ESCAPE '\\'", `${opts.folder.replace(/[\\%_]/g, '\\$&')}/%`)
      : this.byLocation('1 = 1')
  }

  /** Models with more than one location (the same bytes stored twice). */
  duplicates (): IndexedModel[] {
    return this.list().filter(m => m.locations.length > 1)
  }

  /** Models whose source URL is exactly `url`. */
  findBySourceUrl (url: string): IndexedModel[] {
    const rows = this.stmt('SELECT DISTINCT m.hash, m.size, m.blake3, m.sha256 FROM models m JOIN sources s ON s.model_hash = m.hash WHERE s.url = ?').all(url) as ModelRow[]
    return this.hydrate(rows)
  }

  addSource (hash: string, source: ModelSource, metadata: Record<string, unknown> = {}): void {
    const info = this.stmt(`INSERT INTO sources (model_hash, type, url, metadata, added) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (model_hash, url) DO UPDATE SET type = excluded.type, metadata = excluded.metadata`)
    try {
      info.run(hash, source.type, source.url, JSON.stringify(metadata), Date.now())
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
        throw new ComfydockError('MODEL_NOT_FOUND', `no model ${hash} in the index`, { hint: 'Run `comfydock model index sync`, then `comfydock model index list`.' })
      }
      throw err
    }
  }

  /** Records a model (known size) if new; full hashes fill in what was missing. */
  upsertModel (hash: string, size: number, full: { blake3?: string, sha256?: string } = {}): void {
    this.stmt(`INSERT INTO models (hash, size, blake3, sha256, first_seen) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (hash) DO UPDATE SET blake3 = COALESCE(excluded.blake3, blake3), sha256 = COALESCE(excluded.sha256, sha256)`)
      .run(hash, size, full.blake3 ?? null, full.sha256 ?? null, Date.now())
  }

  upsertLocation (hash: string, baseDir: string, relPath: string, size: number, mtime: number): void {
    const rel = toRelPath(relPath)
    this.stmt(`INSERT INTO locations (model_hash, base_dir, rel_path, filename, size, mtime, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (base_dir, rel_path) DO UPDATE SET model_hash = excluded.model_hash, size = excluded.size, mtime = excluded.mtime, last_seen = excluded.last_seen`)
      .run(hash, resolve(baseDir), rel, rel.split('/').pop() ?? rel, size, mtime, Date.now())
  }

  removeLocation (baseDir: string, relPath: string): void {
    this.stmt('DELETE FROM locations WHERE base_dir = ? AND rel_path = ?').run(resolve(baseDir), toRelPath(relPath))
  }

  locationsIn (baseDir: string): Map<string, LocationRecord> {
    const rows = this.stmt('SELECT id, model_hash, rel_path, size, mtime FROM locations WHERE base_dir = ?').all(resolve(baseDir)) as LocationRecord[]
    return new Map(rows.map(r => [r.rel_path, r]))
  }

  /** Extra model directories tracked beside the workspace's models dir. */
  listDirs (): string[] {
    return (this.stmt('SELECT path FROM model_dirs ORDER BY added, path').all() as Array<{ path: string }>).map(r => r.path)
  }

  addDir (path: string): boolean {
    return this.stmt('INSERT OR IGNORE INTO model_dirs (path, added) VALUES (?, ?)').run(resolve(path), Date.now()).changes > 0
  }

  /** Stops tracking a directory and forgets its locations (models and sources stay). */
  removeDir (path: string): boolean {
    const p = resolve(path)
    return this.db.transaction(() => {
      const removed = this.stmt('DELETE FROM model_dirs WHERE path = ?').run(p).changes > 0
      this.stmt('DELETE FROM locations WHERE base_dir = ?').run(p)
      return removed
    })()
  }

  counts (): { models: number, locations: number, sources: number, withFullHashes: number } {
    const one = (sql: string): number => (this.stmt(sql).get() as { n: number }).n
    return {
      models: one('SELECT COUNT(DISTINCT model_hash) AS n FROM locations'),
      locations: one('SELECT COUNT(*) AS n FROM locations'),
      sources: one('SELECT COUNT(*) AS n FROM sources'),
      withFullHashes: one('SELECT COUNT(*) AS n FROM models m WHERE blake3 IS NOT NULL AND EXISTS (SELECT 1 FROM locations l WHERE l.model_hash = m.hash)'),
    }
  }

  private byLocation (where: string, ...params: unknown[]): IndexedModel[] {
    const rows = this.stmt(`SELECT DISTINCT m.hash, m.size, m.blake3, m.sha256 FROM models m JOIN locations l ON l.model_hash = m.hash WHERE ${where} ORDER BY m.hash`)
      .all(...params) as ModelRow[]
    return this.hydrate(rows)
  }

  private hydrate (rows: ModelRow[]): IndexedModel[] {
    if (rows.length === 0) return []
    const hashes = rows.map(r => r.hash)
    const locs = new Map<string, LocationRow[]>()
    const srcs = new Map<string, SourceRow[]>()
    // Chunked IN lists stay under SQLite's parameter limit.
    for (let i = 0; i < hashes.length; i += 500) {
      const part = hashes.slice(i, i + 500)
      const marks = part.map(() => '?').join(',')
      for (const l of this.db.prepare(`SELECT model_hash, base_dir, rel_path, mtime FROM locations WHERE model_hash IN (${marks}) ORDER BY rel_path, base_dir`).all(...part) as LocationRow[]) {
        push(locs, l.model_hash, l)
      }
      for (const s of this.db.prepare(`SELECT model_hash, type, url, json_extract(metadata, '$.unverified') AS unverified FROM sources WHERE model_hash IN (${marks}) ORDER BY id`).all(...part) as SourceRow[]) {
        push(srcs, s.model_hash, s)
      }
    }
    return rows.map(r => ({
      hash: r.hash,
      size: r.size,
      ...(r.blake3 ? { blake3: r.blake3 } : {}),
      ...(r.sha256 ? { sha256: r.sha256 } : {}),
      locations: (locs.get(r.hash) ?? []).map(l => ({ baseDir: l.base_dir, relPath: l.rel_path, mtime: l.mtime })),
      sources: (srcs.get(r.hash) ?? []).map(s => ({ type: s.type as SourceType, url: s.url, ...(s.unverified ? { unverified: true as const } : {}) })),
    }))
  }
}

function push<T> (map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key)
  if (list) list.push(value)
  else map.set(key, [value])
}
