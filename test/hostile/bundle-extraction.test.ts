/**
 * Attack family: bundles that break extraction (finding 8). A directory entry under a file crashed
 * import with a raw stack trace and left the temp folder; a gzip bomb under the old 8 GB cap wrote
 * gigabytes to the temp folder before it was refused; a development-node link that stayed inside
 * its node on paper (`p -> s/..` with `s -> .`) reached the folder above once resolved. Each bundle
 * is a real .tar.gz imported through the built CLI, with TMPDIR pointed at a folder the test watches.
 */
import { createWriteStream, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import { createGzip } from 'node:zlib'
import { Header } from 'tar'
import { beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_EXTRACT_LIMITS, extractSafely } from '../../sidecar/bundle'
import { Workspace } from '../../sidecar/workspace'
import { runCliAsync } from '../support/cli'
import { makeTempDir } from '../support/temp-dir'
import { writeRawTarGz, type RawEntry } from '../bundle/support/raw-tar'
import { PROJECT, bundleManifest } from './support/hostile-env'

let root: string
beforeAll(() => { root = makeTempDir('hostile-extract') })

const PYPROJECT = `${PROJECT}\n[tool.comfydock]\nschema_version = 1\ncomfyui_version = "v0.3.7"\npython_version = "3.11"\n`

function bundle (name: string, entries: RawEntry[], devNodes: string[] = []): string {
  return writeRawTarGz(join(root, `${name}.tar.gz`), [
    { path: 'manifest.json', data: JSON.stringify({ ...bundleManifest(name), dev_nodes: devNodes }) },
    { path: 'pyproject.toml', data: PYPROJECT },
    ...entries,
  ])
}

/** Imports through the CLI with its own TMPDIR; returns the result and what the temp folder holds after. */
async function importIt (file: string): Promise<{ code: number, stderr: string, error: { code: string, message: string }, leftInTemp: string[], envs: string[] }> {
  const base = makeTempDir('imp')
  const tmp = join(base, 'tmp')
  mkdirSync(tmp)
  const { workspace: ws } = await Workspace.init(join(base, 'ws'))
  const res = await runCliAsync(['import', file, '--yes', '--json'], { workspace: ws.root, env: { TMPDIR: tmp } })
  const envDir = join(ws.root, 'environments')
  return {
    code: res.code,
    stderr: res.stderr,
    error: res.stdout ? res.json().error : undefined,
    leftInTemp: readdirSync(tmp),
    envs: existsSync(envDir) ? readdirSync(envDir) : [],
  }
}

describe('hostile bundles at extraction', () => {
  it('refuses a directory entry under a file with a clear error, and removes its temp folder', async () => {
    const res = await importIt(bundle('dir-under-file', [{ path: 'workflows', data: 'x' }, { path: 'workflows/sub', type: 'Directory' }]))
    expect(res.code).toBe(1)
    expect(res.error.code).toBe('BUNDLE_CORRUPT')
    expect(res.error.message).toContain('entry "workflows/sub"')
    expect(res.stderr).not.toMatch(/\n\s+at /) // no stack trace
    expect(res.leftInTemp).toEqual([])
    expect(res.envs).toEqual([])
  })

  it('refuses a file under a file with a clear error', async () => {
    const res = await importIt(bundle('file-under-file', [{ path: 'workflows', data: 'x' }, { path: 'workflows/a.json', data: '{}' }]))
    expect(res.error.code).toBe('BUNDLE_CORRUPT')
    expect(res.error.message).toContain('entry "workflows/a.json"')
    expect(res.leftInTemp).toEqual([])
  })

  it('refuses a file over a folder and a link under a file with clear errors, in any order', async () => {
    const cases: Array<[RawEntry[], RegExp]> = [
      [[{ path: 'w', type: 'Directory' }, { path: 'w', data: 'x' }], /cannot write entry "w": another entry of the bundle is already there/],
      [[{ path: 'w', data: 'x' }, { path: 'w/l', type: 'SymbolicLink', linkpath: '.' }], /cannot create link "w\/l": another entry of the bundle is already there \(.*a file where a folder must be\)/],
      [[{ path: 'w', data: 'x' }, { path: 'w/a/b/c.txt', data: 'y' }], /cannot write entry "w\/a\/b\/c.txt": a file of the bundle is in the way/],
    ]
    for (const [i, [entries, message]] of cases.entries()) {
      const dest = join(makeTempDir('order'), 'x')
      mkdirSync(dest)
      const err = await extractSafely(writeRawTarGz(join(root, `order-${i}.tar.gz`), entries), dest).then(() => ({ code: 'none', message: 'extracted' }), (e: unknown) => e as { code: string, message: string })
      expect(err.code, String(i)).toBe('BUNDLE_CORRUPT')
      expect(err.message, String(i)).toMatch(message)
    }
  })

  it('refuses a gzip bomb from its header, before its data reaches the disk, and removes the temp folder', async () => {
    // 600 MiB of zeros (under a MB compressed): more than one file of a bundle may hold
    const size = 600 * 1024 ** 2
    expect(size).toBeGreaterThan(DEFAULT_EXTRACT_LIMITS.maxFileBytes)
    const file = join(root, 'bomb.tar.gz')
    const header = new Header({ path: 'dev_nodes/n/zeros.bin', type: 'File', mode: 0o644, size, mtime: new Date(0), uid: 0, gid: 0 })
    header.encode()
    const head = [
      ...tarFile('manifest.json', JSON.stringify({ ...bundleManifest('bomb'), dev_nodes: ['n'] })),
      ...tarFile('pyproject.toml', PYPROJECT),
      header.block!,
    ]
    async function * body (): AsyncGenerator<Buffer> {
      for (const b of head) yield b
      const chunk = Buffer.alloc(16 * 1024 ** 2)
      for (let n = 0; n < size; n += chunk.length) yield chunk
      yield Buffer.alloc(1024)
    }
    await pipeline(Readable.from(body()), createGzip({ level: 1 }), createWriteStream(file))
    expect(statSync(file).size).toBeLessThan(4 * 1024 ** 2)
    const res = await importIt(file)
    expect(res.error.code).toBe('BUNDLE_CORRUPT')
    expect(res.error.message).toMatch(/entry "dev_nodes\/n\/zeros.bin" is larger than the [\d.]+ MB a file in a bundle may have/)
    expect(res.leftInTemp).toEqual([])
  }, 120_000)

  it('stops writing at the per-file cap, never after', async () => {
    const dest = join(makeTempDir('cap'), 'x')
    mkdirSync(dest)
    const file = writeRawTarGz(join(root, 'cap.tar.gz'), [{ path: 'a.bin', data: Buffer.alloc(3 * 1024 * 1024) }])
    const err = await extractSafely(file, dest, { limits: { maxFileBytes: 1024 * 1024 } }).catch((e: unknown) => e as { code: string, message: string })
    expect(err).toMatchObject({ code: 'BUNDLE_CORRUPT', message: expect.stringContaining('a.bin') })
    expect(existsSync(join(dest, 'a.bin')) ? statSync(join(dest, 'a.bin')).size : 0).toBeLessThanOrEqual(1024 * 1024)
  })

  it('refuses a development-node link that stays inside on paper but resolves to the folder above', async () => {
    const res = await importIt(bundle('dev-link', [
      { path: 'dev_nodes/n/__init__.py', data: 'X = 1\n' },
      { path: 'dev_nodes/n/s', type: 'SymbolicLink', linkpath: '.' },
      { path: 'dev_nodes/n/p', type: 'SymbolicLink', linkpath: 's/..' },
    ], ['n']))
    expect(res.error?.code).toBe('BUNDLE_CORRUPT')
    expect(res.error.message).toContain('link "dev_nodes/n/p" points outside its development node')
    expect(res.leftInTemp).toEqual([])
    expect(res.envs).toEqual([])
  })
})

function tarFile (path: string, text: string): Buffer[] {
  const data = Buffer.from(text)
  const h = new Header({ path, type: 'File', mode: 0o644, size: data.length, mtime: new Date(0), uid: 0, gid: 0 })
  h.encode()
  return [h.block!, data, Buffer.alloc((512 - (data.length % 512)) % 512)]
}
