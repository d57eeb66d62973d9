import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import yazl from 'yazl'
import { safeExtractZip } from '../../sidecar/nodes/archive/safe-extract-zip'
import { zipFiles } from '../support/registry-server'
import { makeTempDir } from '../support/temp-dir'

const dir = makeTempDir('zip')

/** Python's zipfile writes names verbatim, so it can make the hostile archives yazl refuses to. */
function pythonZip (file: string, entries: Array<[string, string]>): string {
  execFileSync('python3', ['-c', `
import sys, zipfile, json
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    for name, data in json.loads(sys.argv[2]): z.writestr(name, data)
`, file, JSON.stringify(entries)])
  return file
}

async function symlinkZip (file: string, name: string, target: string): Promise<string> {
  const zip = new yazl.ZipFile()
  zip.addBuffer(Buffer.from('ok'), 'ok.txt')
  zip.addBuffer(Buffer.from(target), name, { mode: 0o120777 })
  zip.end()
  const chunks: Buffer[] = []
  for await (const c of zip.outputStream) chunks.push(c as Buffer)
  writeFileSync(file, Buffer.concat(chunks))
  return file
}

describe('safe zip extraction', () => {
  it('extracts a normal pack archive with nested folders', async () => {
    const file = join(dir, 'ok.zip')
    writeFileSync(file, await zipFiles({ '__init__.py': 'x = 1\n', 'nodes/a.py': 'a\n' }))
    expect(await safeExtractZip(file, join(dir, 'ok'))).toEqual(['__init__.py', 'nodes/a.py'])
    expect(readFileSync(join(dir, 'ok', 'nodes', 'a.py'), 'utf8')).toBe('a\n')
  })

  it('refuses zip-slip entries and writes nothing', async () => {
    const file = pythonZip(join(dir, 'slip.zip'), [['fine.py', 'x'], ['../../escaped.txt', 'pwned']])
    await expect(safeExtractZip(file, join(dir, 'slip'))).rejects.toMatchObject({ code: 'ARCHIVE_UNSAFE', message: expect.stringContaining('../../escaped.txt') })
    expect(existsSync(join(dir, 'escaped.txt'))).toBe(false)
    expect(existsSync(join(dir, 'slip', 'fine.py'))).toBe(false)
  })

  it('refuses absolute entry paths', async () => {
    const file = pythonZip(join(dir, 'abs.zip'), [['/tmp/comfydock-abs-test.txt', 'pwned']])
    await expect(safeExtractZip(file, join(dir, 'abs'))).rejects.toMatchObject({ code: 'ARCHIVE_UNSAFE' })
    expect(existsSync('/tmp/comfydock-abs-test.txt')).toBe(false)
  })

  it('refuses symlinks that point outside the target folder', async () => {
    for (const target of ['../../outside', '/etc/passwd']) {
      const file = await symlinkZip(join(dir, 'link.zip'), 'evil-link', target)
      await expect(safeExtractZip(file, join(dir, `link-${target.length}`))).rejects.toMatchObject({ code: 'ARCHIVE_UNSAFE', message: expect.stringContaining('symlink') })
    }
  })

  it('keeps symlinks that stay inside the folder', async () => {
    const file = await symlinkZip(join(dir, 'inner.zip'), 'sub/link', '../ok.txt')
    await safeExtractZip(file, join(dir, 'inner'))
    expect(readlinkSync(join(dir, 'inner', 'sub', 'link'))).toBe('../ok.txt')
    expect(readFileSync(join(dir, 'inner', 'sub', 'link'), 'utf8')).toBe('ok')
  })
})
