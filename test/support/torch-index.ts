/**
 * A PEP 503 index on a loopback server laid out as download.pytorch.org is: `/whl/<backend>/<name>/`,
 * serving small stand-in wheels of the torch family (built here: no test downloads gigabytes of torch).
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FileServer } from './file-server'
import { buildWheel } from './wheels'

export interface TorchWheel {
  name: string
  /** e.g. 2.9.0+cpu */
  version: string
  requires?: string[]
}

/** Serves `wheels` under `/whl/<backend>/` of `server` (wheel files built in `dir`); returns the wheel paths by `name==version`. */
export async function serveTorchIndex (server: FileServer, dir: string, backend: string, wheels: TorchWheel[]): Promise<Record<string, string>> {
  const byName = new Map<string, string[]>()
  const files: Record<string, string> = {}
  for (const w of wheels) {
    const file = await buildWheel(join(dir, backend), { name: w.name, version: w.version, requires: w.requires })
    const data = readFileSync(file)
    const name = file.split('/').at(-1)!
    const sha = createHash('sha256').update(data).digest('hex')
    server.file(`/whl/${backend}/${w.name}/${name}`, data)
    byName.set(w.name, [...(byName.get(w.name) ?? []), `<a href="${name}#sha256=${sha}">${name}</a>`])
    files[`${w.name}==${w.version}`] = file
  }
  for (const [name, links] of byName) {
    server.file(`/whl/${backend}/${name}/`, `<!DOCTYPE html><html><body>${links.join('\n')}</body></html>`, { headers: { 'content-type': 'text/html' } })
  }
  return files
}
