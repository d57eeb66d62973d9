/**
 * @module A SQLite cache of HTTP GET answers (registry look-ups, node_mappings.json) with a time-to-live.
 * Fresh entries answer without the network; stale ones are refreshed, and serve when the server is down
 * (the caller is told, so the output can say the answer came from the cache).
 */
import type Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { lazyRequire } from '../../lazy-require'

const sqlite = lazyRequire<typeof Database>('better-sqlite3')

export interface CachedResponse {
  status: number
  body: string
  fetchedAt: number
}

const SCHEMA_VERSION = 1

export class ResponseCache {
  private db: Database.Database

  constructor (file: string) {
    mkdirSync(dirname(file), { recursive: true })
    this.db = new (sqlite())(file)
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('busy_timeout = 5000')
    if ((this.db.pragma('user_version', { simple: true }) as number) < SCHEMA_VERSION) {
      this.db.exec(`CREATE TABLE IF NOT EXISTS responses (
        url TEXT PRIMARY KEY, status INTEGER NOT NULL, body TEXT NOT NULL, fetched_at INTEGER NOT NULL)`)
      this.db.pragma(`user_version = ${SCHEMA_VERSION}`)
    }
  }

  get (url: string): CachedResponse | undefined {
    const row = this.db.prepare('SELECT status, body, fetched_at FROM responses WHERE url = ?').get(url) as
      { status: number, body: string, fetched_at: number } | undefined
    return row && { status: row.status, body: row.body, fetchedAt: row.fetched_at }
  }

  put (url: string, status: number, body: string, now = Date.now()): void {
    this.db.prepare('INSERT OR REPLACE INTO responses (url, status, body, fetched_at) VALUES (?, ?, ?, ?)').run(url, status, body, now)
  }

  close (): void {
    this.db.close()
  }
}
