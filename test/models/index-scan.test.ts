import Database from 'better-sqlite3'
import { mkdirSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeEach, describe, expect, it } from 'vitest'
import { MIGRATIONS, ModelIndex, SCHEMA_VERSION, shortHash, syncIndex, syncIndexWith, type ScanResult } from '../../sidecar/models'
import { Workspace } from '../../sidecar/workspace'
import { makeTempDir } from '../support/temp-dir'

function put (file: string, content: string | Buffer): void {
  mkdirSync(join(file, '..'), { recursive: true })
  writeFileSync(file, content)
}

describe('model index sync', () => {
  let ws: Workspace
  let models: string
  beforeEach(async () => {
    ws = (await Workspace.init(join(makeTempDir('ws'), 'ws'))).workspace
    models = ws.modelsDir
  })

  it('indexes model files and skips hidden, tiny, symlinked and non-model files', async () => {
    put(join(models, 'checkpoints/sd15/base.safetensors'), 'checkpoint-bytes-1')
    put(join(models, 'loras/style.safetensors'), 'lora-bytes-22')
    put(join(models, 'loras/readme.txt'), 'not a model at all')
    put(join(models, 'loras/preview.png'), 'png png png png')
    put(join(models, 'checkpoints/notes.json'), '{"a": "not a model"}')
    put(join(models, 'configs/v1.yaml'), 'model: config: yes')
    put(join(models, 'checkpoints/.hidden/x.safetensors'), 'hidden-model-bytes')
    put(join(models, 'loras/tiny.safetensors'), 'abc')
    put(join(models, 'my_custom_stuff/thing.weights'), 'custom-model-bytes')
    symlinkSync(join(models, 'loras/style.safetensors'), join(models, 'loras/link.safetensors'))
    const r = await syncIndex(ws)
    const idx = ModelIndex.open(ws)
    const paths = idx.list().flatMap(m => m.locations.map(l => l.relPath)).sort()
    expect(paths).toEqual(['checkpoints/sd15/base.safetensors', 'configs/v1.yaml', 'loras/style.safetensors', 'my_custom_stuff/thing.weights'])
    expect(r.added).toHaveLength(4)
    expect(idx.list({ folder: 'loras' }).map(m => m.locations[0].relPath)).toEqual(['loras/style.safetensors'])
    idx.close()
  })

  it('rescans without hashing unchanged files, and reports moves, deletions and changes', async () => {
    put(join(models, 'loras/a.safetensors'), 'aaaaaaaaaaaa')
    put(join(models, 'loras/b.safetensors'), 'bbbbbbbbbbbb')
    put(join(models, 'vae/c.safetensors'), 'cccccccccccc')
    await syncIndex(ws)
    const again = await syncIndex(ws)
    expect(again.hashed).toBe(0)
    expect(again.unchanged).toBe(3)

    mkdirSync(join(models, 'loras/sub'))
    renameSync(join(models, 'loras/a.safetensors'), join(models, 'loras/sub/a2.safetensors'))
    rmSync(join(models, 'loras/b.safetensors'))
    writeFileSync(join(models, 'vae/c.safetensors'), 'CCCCCCCCCCCCC')
    const r = await syncIndex(ws)
    expect(r.moved).toEqual([expect.objectContaining({ relPath: 'loras/sub/a2.safetensors', from: 'loras/a.safetensors' })])
    expect(r.removed.map(x => x.relPath)).toEqual(['loras/b.safetensors'])
    expect(r.changed.map(x => x.relPath)).toEqual(['vae/c.safetensors'])
    expect(r.added).toEqual([])
    const idx = ModelIndex.open(ws)
    expect(idx.findByPath('loras/a.safetensors')).toEqual([])
    expect(idx.findByFilename('a2.safetensors')[0].hash).toBe(await shortHash(join(models, 'loras/sub/a2.safetensors')))
    expect(idx.findByPath('vae/c.safetensors')[0].hash).toBe(await shortHash(join(models, 'vae/c.safetensors')))
    idx.close()
  })

  it('on worker threads in batches, indexes many files and reports moves, renames, changes, deletions and additions', async () => {
    // 150 files: several batches per worker; workersFrom 1 forces the worker path even for the small rescans.
    for (let i = 0; i < 150; i++) put(join(models, `loras/g${i % 7}/m${i}.safetensors`), `model-number-${i}-bytes`)
    const sync = async (): Promise<ScanResult> => {
      const idx = ModelIndex.open(ws)
      try { return await syncIndexWith(idx, [models], { workersFrom: 1 }) } finally { idx.close() }
    }
    const first = await sync()
    expect(first.added).toHaveLength(150)
    expect(first.hashed).toBe(150)
    const idx = ModelIndex.open(ws)
    for (const i of [0, 77, 149]) {
      const rel = `loras/g${i % 7}/m${i}.safetensors`
      expect(idx.findByPath(rel)[0].hash).toBe(await shortHash(join(models, rel)))
    }
    idx.close()

    mkdirSync(join(models, 'checkpoints'))
    renameSync(join(models, 'loras/g0/m0.safetensors'), join(models, 'checkpoints/moved.safetensors'))
    renameSync(join(models, 'loras/g1/m1.safetensors'), join(models, 'loras/g1/renamed.safetensors'))
    writeFileSync(join(models, 'loras/g2/m2.safetensors'), 'changed-bytes-of-model-2')
    rmSync(join(models, 'loras/g3/m3.safetensors'))
    put(join(models, 'vae/new.safetensors'), 'a-brand-new-model')
    const again = await sync()
    expect(again.hashed).toBe(4)
    expect(again.unchanged).toBe(146)
    expect(again.moved.map(m => [m.from, m.relPath]).sort()).toEqual([
      ['loras/g0/m0.safetensors', 'checkpoints/moved.safetensors'],
      ['loras/g1/m1.safetensors', 'loras/g1/renamed.safetensors'],
    ])
    expect(again.changed.map(c => c.relPath)).toEqual(['loras/g2/m2.safetensors'])
    expect(again.removed.map(r => r.relPath)).toEqual(['loras/g3/m3.safetensors'])
    expect(again.added.map(a => a.relPath)).toEqual(['vae/new.safetensors'])
    expect(again.models).toBe(150) // one deleted, one new
  })

  it('stops a cancelled scan with CANCELLED and keeps what it had hashed, so the next sync hashes only the rest', async () => {
    for (let i = 0; i < 400; i++) put(join(models, `checkpoints/g${i % 5}/m${i}.safetensors`), `cancel-test-model-${i}`)
    const controller = new AbortController()
    const idx = ModelIndex.open(ws)
    try {
      await expect(syncIndexWith(idx, [models], {
        workersFrom: 1,
        signal: controller.signal,
        onProgress: (e) => { if (e.phase === 'progress' && (e.current ?? 0) >= 1) controller.abort() },
      })).rejects.toMatchObject({ code: 'CANCELLED' })
      const kept = idx.counts().locations
      expect(kept).toBeGreaterThan(0)
      expect(kept).toBeLessThan(400)
      const rest = await syncIndexWith(idx, [models], { workersFrom: 1 })
      expect(rest.hashed).toBe(400 - kept)
      expect(rest.unchanged).toBe(kept)
      expect(idx.counts().locations).toBe(400)
    } finally {
      idx.close()
    }
  })

  it('rehashes a file whose mtime changed but keeps it as the same model when the bytes are equal', async () => {
    put(join(models, 'loras/a.safetensors'), 'aaaaaaaaaaaa')
    await syncIndex(ws)
    utimesSync(join(models, 'loras/a.safetensors'), new Date(), new Date(Date.now() + 5000))
    const r = await syncIndex(ws)
    expect(r.hashed).toBe(1)
    expect(r.changed).toEqual([])
    expect(r.added).toEqual([])
  })

  it('keeps one model with several locations for duplicate content', async () => {
    put(join(models, 'checkpoints/one.safetensors'), 'same-content-here')
    put(join(models, 'checkpoints/copy/two.safetensors'), 'same-content-here')
    await syncIndex(ws)
    const idx = ModelIndex.open(ws)
    const dups = idx.duplicates()
    expect(dups).toHaveLength(1)
    expect(dups[0].locations.map(l => l.relPath)).toEqual(['checkpoints/copy/two.safetensors', 'checkpoints/one.safetensors'])
    expect(idx.counts().models).toBe(1)
    idx.close()
  })

  it('scans extra tracked directories and keeps the entries of one that is missing', async () => {
    const extra = join(makeTempDir('extra'), 'drive')
    put(join(extra, 'loras/far.safetensors'), 'far-away-model')
    const idx = ModelIndex.open(ws)
    idx.addDir(extra)
    idx.close()
    await syncIndex(ws)
    rmSync(extra, { recursive: true })
    const r = await syncIndex(ws)
    expect(r.dirs.find(d => d.path === extra)?.missing).toBe(true)
    const after = ModelIndex.open(ws)
    expect(after.findByFilename('far.safetensors')[0].locations[0].baseDir).toBe(extra)
    after.removeDir(extra)
    expect(after.findByFilename('far.safetensors')).toEqual([])
    after.close()
  })

  it('finds models by short hash, hash prefix and full hashes, and records sources', async () => {
    put(join(models, 'loras/a.safetensors'), 'hello world')
    await syncIndex(ws)
    const idx = ModelIndex.open(ws)
    expect(idx.get('988d77fc14cd2702')?.size).toBe(11)
    expect(idx.findByHash('988D77').map(m => m.hash)).toEqual(['988d77fc14cd2702'])
    idx.upsertModel('988d77fc14cd2702', 11, { blake3: 'd74981efa70a0c880b8d8c1985d075dbcbf679b99a5f9914e5aaf96b831a9e24' })
    expect(idx.findByHash('blake3:d74981ef')[0].hash).toBe('988d77fc14cd2702')
    expect(idx.findByHash('zz')).toEqual([])
    idx.addSource('988d77fc14cd2702', { type: 'url', url: 'https://example.com/a.safetensors' })
    idx.addSource('988d77fc14cd2702', { type: 'url', url: 'https://example.com/a.safetensors' })
    expect(idx.get('988d77fc14cd2702')?.sources).toEqual([{ type: 'url', url: 'https://example.com/a.safetensors' }])
    expect(() => idx.addSource('0000000000000000', { type: 'url', url: 'x' })).toThrow(/no model/)
    idx.close()
  })
})

describe('model index file', () => {
  it('migrates an older schema without losing models or sources', () => {
    const file = join(makeTempDir('db'), 'models.db')
    const old = new Database(file)
    MIGRATIONS[0](old)
    old.pragma('user_version = 1')
    old.prepare('INSERT INTO models (hash, size, first_seen) VALUES (?, ?, ?)').run('aaaaaaaaaaaaaaaa', 5, 1)
    old.prepare('INSERT INTO sources (model_hash, type, url, added) VALUES (?, ?, ?, ?)').run('aaaaaaaaaaaaaaaa', 'url', 'https://x/y', 1)
    old.close()
    const idx = ModelIndex.openFile(file)
    expect(idx.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION)
    expect(idx.get('aaaaaaaaaaaaaaaa')?.sources).toEqual([{ type: 'url', url: 'https://x/y' }])
    expect(idx.db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(idx.db.pragma('foreign_keys', { simple: true })).toBe(1)
    idx.close()
  })

  it('refuses an index written by a newer comfydock', () => {
    const file = join(makeTempDir('db'), 'models.db')
    const db = new Database(file)
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`)
    db.close()
    expect(() => ModelIndex.openFile(file)).toThrow(/schema version/)
  })
})
