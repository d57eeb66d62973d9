/**
 * @module The torch family a machine already has. Its build is the machine's (CPU, a CUDA or ROCm
 * version, a distribution's own package seen through --system-site-packages) and is never replaced by an
 * install: every resolve holds the installed torch, torchvision and torchaudio at their versions, so a
 * pack that asks for another torch is a conflict naming the pack and its requirement, never a silent
 * download of gigabytes of another torch.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { deflateRawSync, crc32 } from 'node:zlib'
import type { Pyproject } from '../manifest'
import { requirementsWithOverrides, TORCH_FAMILY } from './lockfile'
import { evaluateMarker, markerEnv } from './markers'
import { parseRequirement, satisfies } from './pep440'
import { baseSitePackages, listDistributions, seesSystemSitePackages, venvSitePackages } from './site-packages'

export interface MachinePackage {
  name: string
  version: string
  /** Installed in the base interpreter (seen through --system-site-packages), not in the venv itself. */
  system: boolean
}

/** The torch-family distributions the venv's Python imports, from its own site-packages first. */
export async function machineTorch (venv: string): Promise<MachinePackage[]> {
  const own = await venvSitePackages(venv)
  if (!own) return []
  const found = new Map<string, MachinePackage>()
  const dirs: Array<[string, boolean]> = [[own, false], ...(await seesSystemSitePackages(venv) ? (await baseSitePackages(venv)).map(d => [d, true] as [string, boolean]) : [])]
  for (const [dir, system] of dirs) {
    const dists = await listDistributions(dir)
    for (const name of TORCH_FAMILY) {
      const d = dists.get(name)
      if (d && !found.has(name)) found.set(name, { name, version: d.version, system })
    }
  }
  return TORCH_FAMILY.map(n => found.get(n)).filter((p): p is MachinePackage => Boolean(p))
}

/** How the machine's package is named to the user: `torch 1.13.0a0 from the system Python (seen through --system-site-packages)`. */
export function describeMachinePackage (p: MachinePackage): string {
  return `${p.name} ${p.version} ${p.system ? 'from the system Python (seen through --system-site-packages)' : "in this environment's venv"}`
}

/** `torch==<installed>` for each machine package: constraints for a resolve (pip sees them installed). */
export function machineConstraints (machine: MachinePackage[]): string[] {
  return machine.map(p => `${p.name}==${p.version}`)
}

/** A manifest requirement on a machine package that its installed version does not satisfy. */
export interface TorchMismatch {
  requirement: string
  machine: MachinePackage
}

/**
 * The manifest's own requirements (ComfyUI's and every pack group's) on the machine's torch family that
 * the installed versions do not satisfy, for a Python of `pythonVersion` (markers are evaluated). An
 * override on a package (a conflict the user settled) stands in for every requirement on it.
 */
export function torchMismatches (doc: Pyproject, machine: MachinePackage[], pythonVersion?: string): TorchMismatch[] {
  const env = pythonVersion ? markerEnv(pythonVersion) : undefined
  const out: TorchMismatch[] = []
  for (const req of requirementsWithOverrides(doc)) {
    const parsed = parseRequirement(req)
    const installed = parsed && machine.find(p => p.name === parsed.name)
    if (!parsed || !installed || parsed.url) continue
    if (parsed.marker && env && !evaluateMarker(parsed.marker, env)) continue
    if (!satisfies(installed.version, parsed.specifier)) out.push({ requirement: req, machine: installed })
  }
  return out
}

/** Which of the manifest's requirements a conflict is about: those on the machine's torch that do not hold. */
export function unsatisfiedRequirements (requirements: string[], machine: MachinePackage[]): string[] {
  return requirements.filter(r => {
    const parsed = parseRequirement(r)
    const installed = parsed && machine.find(p => p.name === parsed.name)
    return Boolean(installed && parsed && !parsed.url && !satisfies(installed.version, parsed.specifier))
  })
}

/**
 * A metadata-only wheel standing in for a machine package in a resolve that cannot see it (uv does not
 * read the base interpreter's site-packages): same name and version, no files, no dependencies, so
 * `name @ file://...` holds the resolve at the installed version without fetching anything. Never installed.
 */
export async function writeStandIn (dir: string, p: MachinePackage): Promise<string> {
  await mkdir(dir, { recursive: true })
  const dist = p.name.replace(/-/g, '_')
  const info = `${dist}-${p.version}.dist-info`
  const files: Array<[string, Buffer]> = [
    [`${info}/METADATA`, Buffer.from(`Metadata-Version: 2.1\nName: ${p.name}\nVersion: ${p.version}\nSummary: comfydock stand-in for the machine's ${p.name}\n\n`)],
    [`${info}/WHEEL`, Buffer.from('Wheel-Version: 1.0\nGenerator: comfydock\nRoot-Is-Purelib: true\nTag: py3-none-any\n\n')],
  ]
  const record = files.map(([name, data]) => `${name},sha256=${createHash('sha256').update(data).digest('base64url')},${data.length}`).join('\n') + `\n${info}/RECORD,,\n`
  files.push([`${info}/RECORD`, Buffer.from(record)])
  const file = join(dir, `${dist}-${p.version}-py3-none-any.whl`)
  await writeFile(file, zipArchive(files))
  return file
}

const DOS_DATE = (0 << 9) | (1 << 5) | 1

/** A zip archive of `files` (deflated, dated 1980-01-01), enough for a wheel. */
function zipArchive (files: Array<[string, Buffer]>): Buffer {
  const locals: Buffer[] = []
  const central: Buffer[] = []
  let offset = 0
  for (const [name, data] of files) {
    const nameBuf = Buffer.from(name)
    const body = deflateRawSync(data)
    const crc = crc32(data)
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(20, 4)
    local.writeUInt16LE(8, 8) // deflate
    local.writeUInt16LE(DOS_DATE, 12)
    local.writeUInt32LE(crc, 14)
    local.writeUInt32LE(body.length, 18)
    local.writeUInt32LE(data.length, 22)
    local.writeUInt16LE(nameBuf.length, 26)
    const dir = Buffer.alloc(46)
    dir.writeUInt32LE(0x02014b50, 0)
    dir.writeUInt16LE(20, 4)
    dir.writeUInt16LE(20, 6)
    dir.writeUInt16LE(8, 10)
    dir.writeUInt16LE(DOS_DATE, 14)
    dir.writeUInt32LE(crc, 16)
    dir.writeUInt32LE(body.length, 20)
    dir.writeUInt32LE(data.length, 24)
    dir.writeUInt16LE(nameBuf.length, 28)
    dir.writeUInt32LE(offset, 42)
    locals.push(local, nameBuf, body)
    central.push(dir, nameBuf)
    offset += local.length + nameBuf.length + body.length
  }
  const centralSize = central.reduce((n, b) => n + b.length, 0)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(files.length, 8)
  end.writeUInt16LE(files.length, 10)
  end.writeUInt32LE(centralSize, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, ...central, end])
}
