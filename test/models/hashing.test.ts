import { Blake3Hasher } from '@napi-rs/blake-hash'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { closeSync, ftruncateSync, openSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { blake3File, fullHash, shortHash, ShortHashPool } from '../../sidecar/models'
import type { ProgressEvent } from '../../sidecar/protocol'
import { makeTempDir } from '../support/temp-dir'

const MiB = 1024 * 1024

/** The 50 MiB layout from the issue, written sparsely: zeros with A, B, C blocks at start, middle and end. */
function writeSampledFile (file: string, size: number): void {
  const fd = openSync(file, 'w')
  ftruncateSync(fd, size)
  writeSync(fd, Buffer.alloc(5 * MiB, 'A'), 0, 5 * MiB, 0)
  writeSync(fd, Buffer.alloc(5 * MiB, 'B'), 0, 5 * MiB, Math.floor(size / 2) - 2.5 * MiB)
  writeSync(fd, Buffer.alloc(5 * MiB, 'C'), 0, 5 * MiB, size - 5 * MiB)
  closeSync(fd)
}

describe('short hash (golden vectors of the original tool)', () => {
  const dir = makeTempDir('hash')

  it('hashes "hello world" (11 bytes) to 988d77fc14cd2702', async () => {
    const f = join(dir, 'hello.bin')
    writeFileSync(f, 'hello world')
    expect(await shortHash(f)).toBe('988d77fc14cd2702')
  })

  it('hashes the original test stub of 4194334 bytes to 23b4683bd83a4650', async () => {
    const f = join(dir, 'sd15_v1.safetensors')
    writeFileSync(f, Buffer.concat([Buffer.from('TEST_MODEL_sd15_v1.safetensors'), Buffer.alloc(4 * MiB)]))
    expect(await shortHash(f)).toBe('23b4683bd83a4650')
  })

  it('samples start, middle and end of a 52428800-byte file: 57998be130aa00c6', async () => {
    const f = join(dir, 'big.bin')
    writeSampledFile(f, 52428800)
    expect(await shortHash(f)).toBe('57998be130aa00c6')
  })
})

describe('short hash on worker threads (used by scans)', () => {
  const dir = makeTempDir('pool')

  it('gives the same golden values, and reports a vanished file with its error code', async () => {
    const hello = join(dir, 'hello.bin')
    writeFileSync(hello, 'hello world')
    const stub = join(dir, 'stub.bin')
    writeFileSync(stub, Buffer.concat([Buffer.from('TEST_MODEL_sd15_v1.safetensors'), Buffer.alloc(4 * MiB)]))
    const big = join(dir, 'big.bin')
    writeSampledFile(big, 52428800)
    const pool = new ShortHashPool(2)
    try {
      const got = await Promise.all([hello, stub, big].map(f => pool.hash(f)))
      expect(got).toEqual([
        { hash: '988d77fc14cd2702', size: 11 },
        { hash: '23b4683bd83a4650', size: 4194334 },
        { hash: '57998be130aa00c6', size: 52428800 },
      ])
      await expect(pool.hash(join(dir, 'gone.bin'))).rejects.toMatchObject({ code: 'ENOENT' })
    } finally {
      await pool.close()
    }
  })

  it('hashes a batch in one round trip, in order, with a vanished file as a result rather than a failure', async () => {
    const files = Array.from({ length: 40 }, (_, i) => {
      const f = join(dir, `batch-${i}.bin`)
      writeFileSync(f, `batch file ${i}`)
      return f
    })
    const pool = new ShortHashPool(2)
    try {
      const [a, b] = await Promise.all([
        pool.hashBatch([...files.slice(0, 20), join(dir, 'gone-too.bin')]),
        pool.hashBatch(files.slice(20)),
      ])
      const got = [...a.slice(0, 20), ...b]
      expect(got.map(r => r.hash)).toEqual(await Promise.all(files.map(f => shortHash(f))))
      expect(got.map(r => r.size)).toEqual(files.map((_, i) => `batch file ${i}`.length))
      expect(a[20]).toMatchObject({ code: 'ENOENT' })
      expect(a[20].hash).toBeUndefined()
    } finally {
      await pool.close()
    }
  })
})

describe('full hash', () => {
  const dir = makeTempDir('full')

  it('gives the reference BLAKE3 and SHA-256 of the golden files', async () => {
    const f = join(dir, 'big.bin')
    writeSampledFile(f, 52428800)
    const d = await fullHash(f)
    expect(d.blake3).toBe('4082d42e0e3ba3e4abf96f8236d10261dfa1aeeb7687742c751d33e141677796')
    expect(d.size).toBe(52428800)
    expect(await blake3File(f)).toBe(d.blake3)
    const openssl = execFileSync('openssl', ['dgst', '-sha256', '-r', f], { encoding: 'utf8' }).split(' ')[0]
    expect(d.sha256).toBe(openssl)
    const h = join(dir, 'hello.bin')
    writeFileSync(h, 'hello world')
    expect((await fullHash(h)).blake3).toBe('d74981efa70a0c880b8d8c1985d075dbcbf679b99a5f9914e5aaf96b831a9e24')
  })

  it('agrees with one-shot hashing on a file that is not a multiple of the read size', async () => {
    const f = join(dir, 'odd.bin')
    const data = Buffer.alloc(9 * MiB + 12345)
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + 7) & 0xff
    writeFileSync(f, data)
    const d = await fullHash(f)
    const b3 = new Blake3Hasher(); b3.update(data)
    expect(d.blake3).toBe(b3.digest('hex'))
    expect(d.sha256).toBe(createHash('sha256').update(data).digest('hex'))
    const empty = join(dir, 'empty.bin')
    writeFileSync(empty, '')
    expect((await fullHash(empty)).sha256).toBe(createHash('sha256').digest('hex'))
  })

  it('gives the same digests with SHA-256 on the worker, inline, and for two files hashed at once', async () => {
    const a = join(dir, 'par-a.bin')
    const b = join(dir, 'par-b.bin')
    const data = Buffer.alloc(40 * MiB + 999)
    for (let i = 0; i < data.length; i += 4096) data[i] = (i >> 12) & 0xff
    writeFileSync(a, data)
    writeFileSync(b, data.subarray(1))
    const [pa, pb] = await Promise.all([fullHash(a), fullHash(b)])
    const ia = await fullHash(a, { parallel: false })
    expect(pa).toEqual(ia)
    expect(pa.sha256).toBe(createHash('sha256').update(data).digest('hex'))
    expect(pb.sha256).toBe(createHash('sha256').update(data.subarray(1)).digest('hex'))
  })

  it('reports byte progress up to the file size, on the worker path and inline', async () => {
    const f = join(dir, 'progress.bin')
    const size = 40 * MiB + 7
    const fd = openSync(f, 'w'); ftruncateSync(fd, size); closeSync(fd)
    for (const parallel of [true, false]) {
      const events: ProgressEvent[] = []
      await fullHash(f, { parallel, onProgress: e => events.push(e) })
      const progress = events.filter(e => e.phase === 'progress')
      expect(progress.length).toBeGreaterThan(0)
      expect(progress.every(e => e.total === size && e.unit === 'bytes')).toBe(true)
      expect(progress.at(-1)?.current).toBe(size)
      expect(events.at(-1)).toMatchObject({ phase: 'end', outcome: 'ok' })
    }
  })
})
