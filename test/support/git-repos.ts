/**
 * Real local git repositories with commits and tags, for git node packs: reachable by path, by
 * file:// URL, and over the git protocol from a `git daemon` on loopback.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { dirname, join } from 'node:path'

const ID = ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false']

function git (dir: string, args: string[], env?: Record<string, string>): string {
  return execFileSync('git', ['-C', dir, ...ID, ...args], { encoding: 'utf8', env: env && { ...process.env, ...env } }).trim()
}

export interface GitRepo {
  path: string
  fileUrl: string
  /** Commit ids, oldest first. */
  commits: string[]
  commit (files: Record<string, string>, opts?: { tag?: string, message?: string }): string
}

/** A repository on branch `main`; each element of `history` is one commit's files (plus optional tag). */
export function makeGitRepo (path: string, history: Array<{ files: Record<string, string>, tag?: string }>): GitRepo {
  mkdirSync(path, { recursive: true })
  execFileSync('git', ['init', '-q', '-b', 'main', path])
  const repo: GitRepo = {
    path,
    fileUrl: `file://${path}`,
    commits: [],
    commit (files, opts = {}) {
      for (const [rel, text] of Object.entries(files)) {
        mkdirSync(dirname(join(path, rel)), { recursive: true })
        writeFileSync(join(path, rel), text)
      }
      git(path, ['add', '-A'])
      // fixed dates: the same history has the same commit ids on every machine (fixtures name them)
      const date = `${1735689600 + repo.commits.length * 60} +0000`
      git(path, ['commit', '-q', '-m', opts.message ?? `commit ${repo.commits.length + 1}`], { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date })
      if (opts.tag) git(path, ['tag', opts.tag])
      git(path, ['update-server-info']) // for the dumb HTTP server below
      const id = git(path, ['rev-parse', 'HEAD'])
      repo.commits.push(id)
      return id
    },
  }
  for (const h of history) repo.commit(h.files, { tag: h.tag })
  return repo
}

async function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
    s.on('error', reject)
  })
}

function canConnect (port: number): Promise<boolean> {
  return new Promise(resolve => {
    const sock = connect(port, '127.0.0.1')
    sock.once('connect', () => { sock.destroy(); resolve(true) })
    sock.once('error', () => resolve(false))
  })
}

export interface GitDaemon {
  /** `git://127.0.0.1:<port>/<name>` for a repository folder under the base path. */
  urlOf (name: string): string
  stop (): Promise<void>
}

/**
 * Serves every repository under `basePath` read-only over git's "dumb" HTTP protocol (static files):
 * `http://127.0.0.1:<port>/<name>.git` is the `.git` folder of `<basePath>/<name>`.
 */
export async function startGitHttpServer (basePath: string): Promise<GitDaemon> {
  const { createServer: createHttpServer } = await import('node:http')
  const { readFile } = await import('node:fs/promises')
  const server = createHttpServer((req, res) => {
    const m = /^\/([\w.-]+)\.git\/(.+)$/.exec(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname))
    if (!m || m[2].split('/').includes('..')) { res.writeHead(404); res.end(); return }
    readFile(join(basePath, m[1], '.git', m[2])).then(
      data => { res.writeHead(200, { 'content-type': 'application/octet-stream' }); res.end(data) },
      () => { res.writeHead(404); res.end() },
    )
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  return {
    urlOf: name => `http://127.0.0.1:${port}/${name}.git`,
    stop: () => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) }),
  }
}

/** Serves every repository under `basePath` read-only over the git protocol. */
export async function startGitDaemon (basePath: string): Promise<GitDaemon> {
  const port = await freePort()
  const child: ChildProcess = spawn('git', ['daemon', '--reuseaddr', '--export-all', `--base-path=${basePath}`, `--port=${port}`, '--listen=127.0.0.1', basePath], { stdio: 'ignore' })
  const base = `git://127.0.0.1:${port}`
  for (let i = 0; i < 100 && !(await canConnect(port)); i++) await new Promise(r => setTimeout(r, 50))
  return {
    urlOf: name => `${base}/${name}`,
    stop: () => new Promise<void>(resolve => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve() // already stopped
      child.once('exit', () => resolve())
      child.kill()
    }),
  }
}
