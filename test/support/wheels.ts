/**
 * Builds real, installable Python wheels for tests: small stand-ins where a test needs a package that
 * exists nowhere else (a sample ComfyUI's requirements); tests of installer behaviour use real PyPI packages.
 * A wheel is a zip with the package, METADATA, WHEEL and RECORD; pip installs it with --no-index.
 */
import { createHash } from 'node:crypto'
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import yazl from 'yazl'

export interface WheelSpec {
  name: string
  version: string
  /** Requires-Dist lines, e.g. ["othepkg>=1.0"]. */
  requires?: string[]
  /** Extra module source; defaults to a module exposing __version__. */
  source?: string
  /** More files of the package, by path inside it (`datasets/utils.py`). */
  files?: Record<string, string>
}

function recordHash (data: Buffer): string {
  return 'sha256=' + createHash('sha256').update(data).digest('base64url')
}

/** Writes `<name>-<version>-py3-none-any.whl` into dir and returns its path. */
export async function buildWheel (dir: string, spec: WheelSpec): Promise<string> {
  mkdirSync(dir, { recursive: true })
  const dist = spec.name.replace(/[-.]+/g, '_').toLowerCase()
  const file = join(dir, `${dist}-${spec.version}-py3-none-any.whl`)
  const info = `${dist}-${spec.version}.dist-info`
  const entries: Array<[string, Buffer]> = [
    [`${dist}/__init__.py`, Buffer.from(spec.source ?? `__version__ = "${spec.version}"\n`)],
    ...Object.entries(spec.files ?? {}).map(([rel, text]): [string, Buffer] => [`${dist}/${rel}`, Buffer.from(text)]),
    [`${info}/METADATA`, Buffer.from([
      'Metadata-Version: 2.1', `Name: ${spec.name}`, `Version: ${spec.version}`,
      ...(spec.requires ?? []).map(r => `Requires-Dist: ${r}`), '', '',
    ].join('\n'))],
    [`${info}/WHEEL`, Buffer.from('Wheel-Version: 1.0\nGenerator: comfydock-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n\n')],
  ]
  const record = entries.map(([p, d]) => `${p},${recordHash(d)},${d.length}`).concat(`${info}/RECORD,,`).join('\n') + '\n'
  entries.push([`${info}/RECORD`, Buffer.from(record)])
  const zip = new yazl.ZipFile()
  for (const [p, d] of entries) zip.addBuffer(d, p, { mtime: new Date(2020, 0, 1) })
  zip.end()
  await new Promise<void>((resolve, reject) => {
    zip.outputStream.pipe(createWriteStream(file)).on('close', resolve).on('error', reject)
  })
  return file
}

/**
 * The environment variables that make both installers use only the wheels in `dirs` (no index):
 * pip reads PIP_NO_INDEX / PIP_FIND_LINKS; uv reads no pip setting, so it gets a uv.toml
 * (UV_CONFIG_FILE) saying the same. The uv.toml is written beside the first folder.
 */
export function localIndexEnv (dirs: string[]): Record<string, string> {
  const config = `${dirs[0].replace(/\/+$/, '')}.uv.toml`
  writeFileSync(config, `no-index = true\nfind-links = [${dirs.map(d => JSON.stringify(d)).join(', ')}]\n`)
  return { PIP_NO_INDEX: '1', PIP_FIND_LINKS: dirs.join(' '), PIP_DISABLE_PIP_VERSION_CHECK: '1', UV_CONFIG_FILE: config }
}
