import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import yazl from 'yazl'
import { openCheckedZip, safeExtractZip } from '../../sidecar/nodes/archive/safe-extract-zip'
import { scanArchiveRequirements, scanRequirements } from '../../sidecar/nodes/scan-requirements'
import { makeTempDir } from '../support/temp-dir'

const dir = makeTempDir('scan-archive')
let n = 0

/** Python's zipfile keeps names and duplicates as given. */
function pythonZip (entries: Array<[string, string]>): string {
  const file = join(dir, `a${n++}.zip`)
  execFileSync('python3', ['-c', `
import sys, zipfile, json, warnings
warnings.simplefilter('ignore')
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    for name, data in json.loads(sys.argv[2]): z.writestr(name, data)
`, file, JSON.stringify(entries)])
  return file
}

/** What node add installs from: the requirements read from the archive, and those of the folder it extracts to. */
async function bothWays (file: string) {
  const dest = join(dir, `x${n++}`)
  const zip = await openCheckedZip(file, dest)
  try {
    const fromArchive = await scanArchiveRequirements(zip)
    await safeExtractZip(file, dest)
    return { fromArchive, fromFolder: await scanRequirements(dest) }
  } finally {
    zip.close()
  }
}

describe('a pack archive\'s requirements, read before it is extracted', () => {
  it.each<[string, Array<[string, string]>]>([
    ['requirements.txt', [['__init__.py', ''], ['requirements.txt', 'six==1.16.0\n--extra-index-url https://x\niniconfig\n']]],
    ['requirements.txt over pyproject.toml, with install.py', [['pyproject.toml', '[project]\ndependencies = ["a"]\n'], ['requirements.txt', 'b\n'], ['install.py', '']]],
    ['pyproject.toml', [['pyproject.toml', '[project]\ndependencies = ["a>=1", " b "]\n']]],
    ['an unreadable pyproject.toml', [['pyproject.toml', '[project\n']]],
    ['the last of two entries of one name, one spelled ./', [['requirements.txt', 'a\n'], ['./requirements.txt', 'b\n']]],
    ['nested files of those names only', [['sub/requirements.txt', 'a\n'], ['sub/install.py', '']]],
    ['nothing', [['__init__.py', '']]],
  ])('are those of the extracted folder: %s', async (_name, entries) => {
    const { fromArchive, fromFolder } = await bothWays(pythonZip(entries))
    expect(fromArchive).toEqual(fromFolder)
  })

  it.each<[string, Array<[string, string]>]>([
    ['a folder named requirements.txt', [['requirements.txt/x', 'a\n'], ['pyproject.toml', '[project]\ndependencies = ["a"]\n']]],
    ['a folder named install.py', [['install.py/', ''], ['requirements.txt', 'a\n']]],
    ['another case of the name', [['Requirements.txt', 'a\n']]],
  ])('are left to the extracted folder when the archive cannot tell: %s', async (_name, entries) => {
    const file = pythonZip(entries)
    const zip = await openCheckedZip(file, join(dir, `y${n++}`))
    try {
      expect(await scanArchiveRequirements(zip)).toBeUndefined()
    } finally {
      zip.close()
    }
  })

  it('are left to the extracted folder when the archive has links', async () => {
    const z = new yazl.ZipFile()
    z.addBuffer(Buffer.from('a\n'), 'reqs/base.txt')
    z.addBuffer(Buffer.from('reqs/base.txt'), 'requirements.txt', { mode: 0o120777 })
    z.end()
    const chunks: Buffer[] = []
    for await (const c of z.outputStream) chunks.push(c as Buffer)
    const file = join(dir, 'link.zip')
    writeFileSync(file, Buffer.concat(chunks))
    const { fromArchive, fromFolder } = await bothWays(file)
    expect(fromArchive).toBeUndefined()
    expect(fromFolder.requirements).toEqual(['a'])
  })
})
