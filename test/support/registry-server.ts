/**
 * A loopback HTTP server speaking the Comfy Registry API shapes (research/peer-tools.md section 5),
 * serving real zip files made in the test, plus a node_mappings.json. Counts requests per path so
 * tests can tell cache hits from network hits; `stop()` closes it for "server down" tests.
 */
import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import yazl from 'yazl'

export interface FakeVersion {
  version: string
  /** Files of the pack (zipped at the archive root, as registry node.zip files are). */
  files?: Record<string, string>
  /** A ready zip instead of `files` (for hostile archives). */
  zip?: Buffer
  dependencies?: string[]
  /** Node class names this version declares. */
  classes?: string[]
  createdAt?: string
  /** Published without a registry archive (no downloadUrl): installers fall back to the repository. */
  noArchive?: boolean
  /** Send only this many bytes of the zip, then hold the connection open (a download caught mid-way). */
  stallAfter?: number
}

export interface FakePack {
  id: string
  name?: string
  repository?: string
  /** Oldest first; the last one is latest. */
  versions: FakeVersion[]
  downloads?: number
}

export async function zipFiles (files: Record<string, string>): Promise<Buffer> {
  const zip = new yazl.ZipFile()
  for (const [p, d] of Object.entries(files)) zip.addBuffer(Buffer.from(d), p, { mtime: new Date(2020, 0, 1) })
  zip.end()
  const chunks: Buffer[] = []
  for await (const c of zip.outputStream) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

export interface RegistryServer {
  url: string
  /** Number of requests whose path starts with the prefix. */
  hits (prefix?: string): number
  zipOf (id: string, version: string): Buffer
  sha256Of (id: string, version: string): string
  /** Ranked pick of `/comfy-nodes/{name}/node`; defaults to the first pack declaring the class. */
  rankFor (className: string, packId: string): void
  setMappings (doc: unknown): void
  /** Sets (or with undefined, ends) the stall of every version of a pack's zip. */
  setStall (id: string, bytes: number | undefined): void
  addPack (pack: FakePack): Promise<void>
  stop (): Promise<void>
}

export async function startRegistryServer (packs: FakePack[] = []): Promise<RegistryServer> {
  const all = new Map<string, FakePack>()
  const zips = new Map<string, Buffer>()
  const ranked = new Map<string, string>()
  let mappings: unknown = { version: 'test', mappings: {}, packages: {} }
  const requests: string[] = []
  let base = ''

  const versionJson = (p: FakePack, v: FakeVersion) => ({
    id: `${p.id}-${v.version}`, node_id: p.id, version: v.version, createdAt: v.createdAt ?? '2025-01-01T00:00:00Z',
    deprecated: false, dependencies: v.dependencies ?? [], status: 'NodeVersionStatusActive',
    ...(v.noArchive ? {} : { downloadUrl: `${base}/files/${p.id}/${v.version}/node.zip` }),
  })
  const nodeJson = (p: FakePack) => ({
    id: p.id, name: p.name ?? p.id, description: `${p.name ?? p.id} (served by the test registry)`, repository: p.repository ?? `https://github.com/test/${p.id}`,
    downloads: p.downloads ?? 0, github_stars: 0, status: 'NodeStatusActive',
    latest_version: versionJson(p, p.versions[p.versions.length - 1]),
  })
  const claimants = (cls: string) => [...all.values()].filter(p => p.versions.some(v => v.classes?.includes(cls)))

  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x')
    requests.push(u.pathname)
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    const notFound = () => send(404, { error: 'not found', message: 'not found' })
    const parts = u.pathname.split('/').filter(Boolean).map(decodeURIComponent)
    if (req.method !== 'GET') return send(405, { error: 'method', message: 'read-only test registry' })
    if (u.pathname === '/node_mappings.json') return send(200, mappings)
    if (parts[0] === 'files' && parts.length === 4) {
      const zip = zips.get(`${parts[1]}@${parts[2]}`)
      if (!zip) return notFound()
      res.writeHead(200, { 'content-type': 'application/zip', 'content-length': zip.length })
      const stall = all.get(parts[1])?.versions.find(v => v.version === parts[2])?.stallAfter
      if (stall !== undefined) { res.write(zip.subarray(0, stall)); return }
      return res.end(zip)
    }
    if (parts[0] === 'nodes' && parts[1] === 'search') {
      const cls = u.searchParams.get('comfy_node_search')
      const repo = u.searchParams.get('repository_url_search')
      const text = (u.searchParams.get('search') ?? '').toLowerCase()
      const found = cls
        ? claimants(cls)
        : repo
          ? [...all.values()].filter(p => nodeJson(p).repository.toLowerCase().includes(repo.toLowerCase().replace(/\.git$/, '')))
          : [...all.values()].filter(p => p.id.includes(text) || (p.name ?? '').toLowerCase().includes(text))
      return send(200, { nodes: found.map(nodeJson), total: found.length, page: 1, limit: 20, totalPages: 1 })
    }
    if (parts[0] === 'comfy-nodes' && parts[2] === 'node') {
      const id = ranked.get(parts[1]) ?? claimants(parts[1])[0]?.id
      const p = id ? all.get(id) : undefined
      return p ? send(200, nodeJson(p)) : notFound()
    }
    if (parts[0] === 'nodes' && parts[1]) {
      const p = all.get(parts[1])
      if (!p) return notFound()
      if (parts.length === 2) return send(200, nodeJson(p))
      if (parts[2] === 'install') return send(403, { error: 'forbidden', message: 'install-counting endpoint must not be used' })
      if (parts[2] !== 'versions') return notFound()
      if (parts.length === 3) return send(200, [...p.versions].reverse().map(v => versionJson(p, v)))
      const v = p.versions.find(x => x.version === parts[3])
      if (!v) return notFound()
      if (parts.length === 4) return send(200, versionJson(p, v))
      if (parts[4] === 'comfy-nodes') {
        return send(200, { comfy_nodes: (v.classes ?? []).map(c => ({ comfy_node_name: c })), totalNumberOfPages: 1 })
      }
    }
    notFound()
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  const api: RegistryServer = {
    url: base,
    hits: (prefix = '/') => requests.filter(p => p.startsWith(prefix)).length,
    zipOf: (id, version) => zips.get(`${id}@${version}`)!,
    sha256Of: (id, version) => createHash('sha256').update(zips.get(`${id}@${version}`)!).digest('hex'),
    rankFor: (cls, id) => { ranked.set(cls, id) },
    setMappings: doc => { mappings = doc },
    setStall: (id, bytes) => { for (const v of all.get(id)?.versions ?? []) v.stallAfter = bytes },
    async addPack (p) {
      all.set(p.id, p)
      for (const v of p.versions) {
        zips.set(`${p.id}@${v.version}`, v.zip ?? await zipFiles(v.files ?? { '__init__.py': `NODE_CLASS_MAPPINGS = {}\n# ${p.id} ${v.version}\n` }))
      }
    },
    stop: () => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) }),
  }
  for (const p of packs) await api.addPack(p)
  return api
}
