import { execFileSync } from 'node:child_process'
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { gzipSync } from 'node:zlib'
import { beforeEach, describe, expect, it } from 'vitest'
import { extractSafely } from '../../sidecar/bundle'
import { makeTempDir } from '../support/temp-dir'
import { rawTar, writeRawTarGz, type RawEntry } from './support/raw-tar'

let root: string
let target: string
let outside: string
let n = 0

beforeEach(() => {
  root = join(makeTempDir('extract'), String(n++))
  target = join(root, 'stage', 'target')
  outside = join(root, 'outside')
  mkdirSync(target, { recursive: true })
  mkdirSync(outside)
  writeFileSync(join(outside, 'keep.txt'), 'untouched')
})

/** Every path under root except the extraction target itself. */
function snapshotOutside (): string[] {
  const out: string[] = []
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name)
      if (p === target) continue
      out.push(relative(root, p))
      if (e.isDirectory() && !e.isSymbolicLink()) walk(p)
    }
  }
  walk(root)
  return out.sort()
}

async function expectCorrupt (archive: string, pattern: RegExp, limits?: { maxTotalBytes?: number, maxEntries?: number }): Promise<void> {
  const before = snapshotOutside()
  const err = await extractSafely(archive, target, { limits }).then(() => null, (e: unknown) => e as { code: string, message: string })
  expect(err, 'extraction should fail').not.toBeNull()
  expect(err!.code).toBe('BUNDLE_CORRUPT')
  expect(err!.message).toMatch(/^bundle appears corrupted: /)
  expect(err!.message).toMatch(pattern)
  expect(snapshotOutside()).toEqual(before)
  expect(readFileSync(join(outside, 'keep.txt'), 'utf8')).toBe('untouched')
}

function hostile (name: string, entries: RawEntry[]): string {
  return writeRawTarGz(join(root, name), entries)
}

describe('safe extraction of an honest archive', () => {
  it('extracts files, folders, executable bits and links that stay inside', async () => {
    const archive = hostile('ok.tar.gz', [
      { path: 'manifest.json', data: '{}' },
      { path: 'dev_nodes/', type: 'Directory' },
      { path: 'dev_nodes/n/run.sh', data: '#!/bin/sh\n', mode: 0o755 },
      { path: 'dev_nodes/n/sub/a.py', data: 'x = 1\n' },
      { path: 'dev_nodes/n/alias.py', type: 'SymbolicLink', linkpath: 'sub/a.py' },
    ])
    const res = await extractSafely(archive, target)
    expect(res.files).toBe(3)
    expect(readFileSync(join(target, 'dev_nodes/n/sub/a.py'), 'utf8')).toBe('x = 1\n')
    expect(statSync(join(target, 'dev_nodes/n/run.sh')).mode & 0o111).not.toBe(0)
    expect(readlinkSync(join(target, 'dev_nodes/n/alias.py'))).toBe('sub/a.py')
  })

  it('extracts an archive made by the system tar', async () => {
    const src = join(root, 'src')
    mkdirSync(join(src, 'workflows'), { recursive: true })
    writeFileSync(join(src, 'pyproject.toml'), '[project]\nname = "x"\n')
    writeFileSync(join(src, 'workflows', 'a.json'), '{}')
    execFileSync('tar', ['czf', join(root, 'sys.tar.gz'), '-C', src, '.'])
    await extractSafely(join(root, 'sys.tar.gz'), target)
    expect(readFileSync(join(target, 'workflows', 'a.json'), 'utf8')).toBe('{}')
  })
})

describe('hostile bundles are refused with nothing written outside the target', () => {
  it('refuses a file that is not gzip', async () => {
    writeFileSync(join(root, 'plain.tar.gz'), 'this is not an archive')
    await expectCorrupt(join(root, 'plain.tar.gz'), /is not a gzip file/)
  })

  it('refuses gzip data that is not a tar archive', async () => {
    writeFileSync(join(root, 'notar.tar.gz'), gzipSync(Buffer.from('hello '.repeat(300))))
    await expectCorrupt(join(root, 'notar.tar.gz'), /not a valid tar archive/)
  })

  it('refuses a truncated archive', async () => {
    const full = gzipSync(rawTar([{ path: 'pyproject.toml', data: 'x'.repeat(200_000) }, { path: 'b.txt', data: 'y'.repeat(50_000) }]))
    writeFileSync(join(root, 'cut.tar.gz'), full.subarray(0, Math.floor(full.length / 2)))
    await expectCorrupt(join(root, 'cut.tar.gz'), /truncated|not a valid tar/)
  })

  it('refuses an entry with ".." that would land outside', async () => {
    await expectCorrupt(hostile('dotdot.tar.gz', [{ path: '../../outside/evil.txt', data: 'pwned' }]), /"\.\.\/\.\.\/outside\/evil\.txt" points outside/)
    expect(existsSync(join(outside, 'evil.txt'))).toBe(false)
  })

  it('refuses ".." hidden in the middle of a path', async () => {
    await expectCorrupt(hostile('mid.tar.gz', [{ path: 'workflows/../../../outside/evil.txt', data: 'pwned' }]), /points outside/)
  })

  it('refuses an absolute path', async () => {
    const abs = join(outside, 'abs.txt')
    await expectCorrupt(hostile('abs.tar.gz', [{ path: abs, data: 'pwned' }]), /absolute path/)
    expect(existsSync(abs)).toBe(false)
  })

  it('refuses a symbolic link to an absolute path outside, and a file written through it', async () => {
    await expectCorrupt(hostile('symabs.tar.gz', [
      { path: 'escape', type: 'SymbolicLink', linkpath: outside },
      { path: 'escape/evil.txt', data: 'pwned' },
    ]), /link "escape" points outside/)
    expect(existsSync(join(outside, 'evil.txt'))).toBe(false)
  })

  it('refuses a relative link that climbs out', async () => {
    await expectCorrupt(hostile('symrel.tar.gz', [{ path: 'dev_nodes/up', type: 'SymbolicLink', linkpath: '../../../outside' }]), /points outside/)
  })

  it('refuses links that only escape when followed through other links', async () => {
    await expectCorrupt(hostile('chain.tar.gz', [
      { path: 'a/b/c/d', type: 'SymbolicLink', linkpath: '../../..' },
      { path: 'a/b/c/d/e', type: 'SymbolicLink', linkpath: '../../outside' },
      { path: 'a/b/c/d/e/f', type: 'SymbolicLink', linkpath: 'x' },
    ]), /link "a\/b\/c\/d\/e" points/)
    expect(readdirSync(outside)).toEqual(['keep.txt'])
  })

  it('refuses a symlink to outside made by the system tar', async () => {
    const src = join(root, 'symsrc')
    mkdirSync(src)
    symlinkSync(outside, join(src, 'out'))
    execFileSync('tar', ['czf', join(root, 'syssym.tar.gz'), '-C', src, 'out'])
    await expectCorrupt(join(root, 'syssym.tar.gz'), /link "out" points outside/)
  })

  it('refuses hard links', async () => {
    await expectCorrupt(hostile('hard.tar.gz', [{ path: 'passwd', type: 'Link', linkpath: '/etc/passwd' }]), /hard link/)
    expect(existsSync(join(target, 'passwd'))).toBe(false)
  })

  it('refuses device files', async () => {
    await expectCorrupt(hostile('dev.tar.gz', [{ path: 'null', type: 'CharacterDevice' }]), /device file or FIFO/)
    await expectCorrupt(hostile('blk.tar.gz', [{ path: 'sda', type: 'BlockDevice' }]), /device file or FIFO/)
  })

  it('refuses FIFOs', async () => {
    await expectCorrupt(hostile('fifo.tar.gz', [{ path: 'pipe', type: 'FIFO' }]), /device file or FIFO/)
  })

  it('refuses an entry declaring a huge size before writing its data', async () => {
    // the header claims 20 GB; only a little data follows
    await expectCorrupt(hostile('huge.tar.gz', [{ path: 'model.bin', size: 20 * 1024 ** 3, data: Buffer.alloc(0) }]), /"model.bin" is larger than the 256.0 MB a file in a bundle may have/)
    expect(existsSync(join(target, 'model.bin'))).toBe(false)
  })

  it('refuses a gzip bomb that expands past the size cap', async () => {
    const bomb = hostile('bomb.tar.gz', [{ path: 'zeros.bin', data: Buffer.alloc(3 * 1024 * 1024) }])
    expect(statSync(bomb).size).toBeLessThan(20_000)
    await expectCorrupt(bomb, /unpacks to more than 1\.0 MB/, { maxTotalBytes: 1024 * 1024 })
  })

  it('refuses zero padding hidden after the end of the archive', async () => {
    const tail = Buffer.concat([rawTar([{ path: 'a.txt', data: 'a' }]), Buffer.alloc(4 * 1024 * 1024)])
    writeFileSync(join(root, 'tail.tar.gz'), gzipSync(tail))
    await expectCorrupt(join(root, 'tail.tar.gz'), /decompresses to more than/, { maxTotalBytes: 1024 * 1024 })
  })

  it('refuses more entries than the cap', async () => {
    const many = Array.from({ length: 30 }, (_, i) => ({ path: `f${i}.txt`, data: 'x' }))
    await expectCorrupt(hostile('many.tar.gz', many), /more than 10 entries/, { maxEntries: 10 })
  })

  it('refuses a duplicate entry instead of overwriting', async () => {
    await expectCorrupt(hostile('dup.tar.gz', [
      { path: 'pyproject.toml', data: 'first' },
      { path: 'pyproject.toml', data: 'second' },
    ]), /cannot write entry "pyproject.toml"/)
  })

  it('refuses an empty archive', async () => {
    writeFileSync(join(root, 'empty.tar.gz'), gzipSync(Buffer.alloc(1024)))
    await expectCorrupt(join(root, 'empty.tar.gz'), /empty|not a valid tar/)
  })

  it('leaves regular files only for honest entries after a refused one', async () => {
    await expectCorrupt(hostile('mixed.tar.gz', [
      { path: 'ok.txt', data: 'fine' },
      { path: '../evil.txt', data: 'pwned' },
    ]), /points outside/)
    for (const p of readdirSync(target, { recursive: true }) as string[]) expect(lstatSync(join(target, p)).isSymbolicLink()).toBe(false)
  })
})
