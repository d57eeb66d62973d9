/**
 * @module The model index schema and its migrations. `PRAGMA user_version` holds the applied step;
 * each step runs once, inside a transaction, and only adds or transforms: user data (hashes,
 * sources) is never dropped. A file written by a newer comfydock is refused rather than guessed at.
 */
import type { Database } from 'better-sqlite3'
import { ComfydockError } from '../errors'

export const MIGRATIONS: ReadonlyArray<(db: Database) => void> = [
  // 1: models by short hash, where they are, where they come from
  (db) => db.exec(`
    CREATE TABLE models (
      hash TEXT PRIMARY KEY,
      size INTEGER NOT NULL,
      blake3 TEXT,
      sha256 TEXT,
      first_seen INTEGER NOT NULL,
      metadata TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE locations (
      id INTEGER PRIMARY KEY,
      model_hash TEXT NOT NULL REFERENCES models(hash) ON DELETE CASCADE,
      base_dir TEXT NOT NULL,
      rel_path TEXT NOT NULL,
      filename TEXT NOT NULL,
      size INTEGER NOT NULL,
      mtime REAL NOT NULL,
      last_seen INTEGER NOT NULL,
      UNIQUE (base_dir, rel_path)
    );
    CREATE TABLE sources (
      id INTEGER PRIMARY KEY,
      model_hash TEXT NOT NULL REFERENCES models(hash) ON DELETE CASCADE,
      type TEXT NOT NULL,
      url TEXT NOT NULL,
      metadata TEXT NOT NULL DEFAULT '{}',
      added INTEGER NOT NULL,
      UNIQUE (model_hash, url)
    );
    CREATE INDEX locations_hash ON locations (model_hash);
    CREATE INDEX locations_rel_path ON locations (rel_path);
    CREATE INDEX locations_filename ON locations (filename);
    CREATE INDEX sources_hash ON sources (model_hash);
    CREATE INDEX sources_url ON sources (url);
    CREATE INDEX models_blake3 ON models (blake3);
    CREATE INDEX models_sha256 ON models (sha256);
  `),
  // 2: extra model folders the user tracks beside the workspace's models dir
  (db) => db.exec(`
    CREATE TABLE model_dirs (
      path TEXT PRIMARY KEY,
      added INTEGER NOT NULL
    );
  `),
]

export const SCHEMA_VERSION = MIGRATIONS.length

/** Brings the file up to `target` (default: the newest schema). */
export function migrate (db: Database, file: string, target = SCHEMA_VERSION): void {
  const current = db.pragma('user_version', { simple: true }) as number
  if (current > SCHEMA_VERSION) {
    throw new ComfydockError('INDEX_ERROR', `the model index ${file} has schema version ${current}; this comfydock knows up to ${SCHEMA_VERSION}`, {
      hint: 'Upgrade comfydock (`npm install -g comfydock@latest`).',
    })
  }
  for (let v = current; v < target; v++) {
    db.transaction(() => {
      MIGRATIONS[v](db)
      db.pragma(`user_version = ${v + 1}`)
    })()
  }
}
