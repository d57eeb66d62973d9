/**
 * Two team members, two workspaces, one environment shared through a real git server over HTTP (git's
 * own http-backend on loopback), all through the CLI as users run it: push, clone, pull with a preview,
 * a conflict shown and resolved by a choice, uncommitted work refused or committed first, a rejected
 * push, and a private remote whose login comes from git's credential helper (and a clear error without).
 */
import { execFile, execFileSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readManifest } from '../../sidecar/manifest'
import type { PullPreviewResult, PullSummary } from '../../sidecar/protocol'
import { startSidecar } from '../../sidecar/server'
import { connect } from '../server/client'
import { MODEL_SETTINGS } from '../../sidecar/models'
import { S3_KEYS, startS3Server, type S3Server } from '../support/s3-server'
import type { EnvPaths, Workspace } from '../../sidecar/workspace'
import { makeWorld, type World } from '../bundle/support/world'
import { runCliAsync, type CliResult } from '../support/cli'
import { startGitHttpBackend, type GitHttpServer } from '../support/git-http-server'
import { makeTempDir } from '../support/temp-dir'
import { runOnTty } from '../support/tty'

let world: World
let server: GitHttpServer
let url: string
let bob: { ws: Workspace, env: EnvPaths }

const git = (dir: string, args: string[]): string => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim()
const gitAsync = (dir: string, args: string[]): Promise<void> => new Promise((resolve, reject) => {
  execFile('git', ['-C', dir, ...args], err => (err ? reject(err) : resolve()))
})
const cli = async (ws: Workspace, args: string[], env?: NodeJS.ProcessEnv): Promise<CliResult> => runCliAsync(args, { workspace: ws.root, env })
const ok = (r: CliResult): CliResult => { expect(r.code, `${r.stderr}\n${r.stdout}`).toBe(0); return r }

/** A teammate's edit of a workflow as ComfyUI saves it; `commit` records it with `comfydock commit`. */
async function editWorkflow (who: { ws: Workspace, env: EnvPaths }, name: string, value: string, commit = true): Promise<void> {
  const file = join(who.env.userWorkflows, `${name}.json`)
  const doc = JSON.parse(readFileSync(file, 'utf8'))
  const node = doc.nodes.find((n: { widgets_values?: unknown[] }) => Array.isArray(n.widgets_values) && typeof n.widgets_values[0] === 'string')
  node.widgets_values[0] = value
  writeFileSync(file, JSON.stringify(doc, null, 2))
  if (commit) ok(await cli(who.ws, ['-e', 'portraits', 'commit', '-m', `edit ${name}: ${value}`, '--allow-issues']))
}

/** A new workflow saved in ComfyUI, tracked and committed. */
async function addWorkflow (who: { ws: Workspace, env: EnvPaths }, name: string, from: string): Promise<void> {
  writeFileSync(join(who.env.userWorkflows, `${name}.json`), readFileSync(join(who.env.userWorkflows, `${from}.json`)))
  ok(await cli(who.ws, ['-e', 'portraits', 'workflow', 'track', name]))
  ok(await cli(who.ws, ['-e', 'portraits', 'commit', '-m', `add workflow ${name}`, '--allow-issues']))
}

const alice = (): { ws: Workspace, env: EnvPaths } => world.src
const widget = (env: EnvPaths, name: string, where: 'user' | 'cec' = 'user'): string => {
  const doc = JSON.parse(readFileSync(join(where === 'user' ? env.userWorkflows : env.cecWorkflows, `${name}.json`), 'utf8'))
  return doc.nodes.find((n: { widgets_values?: unknown[] }) => Array.isArray(n.widgets_values) && typeof n.widgets_values[0] === 'string').widgets_values[0]
}

beforeAll(async () => {
  world = await makeWorld(makeTempDir('teams-world'))
  server = await startGitHttpBackend(join(world.root, 'git-server'))
  url = server.createRepo('portraits')
}, 300_000)
afterAll(async () => { await server?.close(); await world?.close() })

describe('two team members share an environment through a real git server', () => {
  it('alice adds the remote and pushes; bob clones it: same manifest, workflows, packs and models, and history', async () => {
    const a = alice()
    ok(await cli(a.ws, ['-e', 'portraits', 'remote', 'add', 'origin', url]))
    const list = ok(await cli(a.ws, ['-e', 'portraits', '--json', 'remote', 'list'])).json<{ remotes: Array<{ name: string, url: string }> }>()
    expect(list.remotes).toEqual([{ name: 'origin', url }])
    const pushed = ok(await cli(a.ws, ['-e', 'portraits', 'push']))
    expect(pushed.stdout).toContain('Pushed portraits')
    const head = git(a.env.cec, ['rev-parse', 'HEAD'])
    expect(git(server.pathOf('portraits'), ['rev-parse', 'main'])).toBe(head)
    // machine-local state never travels
    const files = git(server.pathOf('portraits'), ['ls-tree', '-r', '--name-only', 'main']).split('\n')
    expect(files).toContain('pyproject.toml')
    expect(files).not.toContain('local.json')
    expect(files).not.toContain('.complete')

    const ws = await world.newWorkspace('ws-bob')
    const cloned = ok(await cli(ws, ['clone', url, '--yes', '--models', 'all']))
    expect(cloned.stdout).toContain(`Cloned ${url} into environment "portraits"`)
    const env = ws.env('portraits')
    bob = { ws, env }
    const [ma, mb] = [await readManifest(a.env.pyproject), await readManifest(env.pyproject)]
    for (const k of ['nodes', 'workflows', 'models', 'comfyui_commit_sha'] as const) expect(mb.tool.comfydock[k], k).toEqual(ma.tool.comfydock[k])
    // alice's history is bob's; origin points at the server
    expect(git(env.cec, ['merge-base', '--is-ancestor', head, 'HEAD'])).toBe('')
    expect(git(env.cec, ['remote', 'get-url', 'origin'])).toBe(url)
    expect(git(env.cec, ['status', '--porcelain'])).toBe('')
    expect(readFileSync(join(env.userWorkflows, 'default.json'), 'utf8')).toBe(readFileSync(join(a.env.cecWorkflows, 'default.json'), 'utf8'))
    expect(readFileSync(join(env.customNodes, 'ComfyUI-Impact-Pack', '__init__.py'), 'utf8')).toBe('V = "8.1.0"\n')
    for (const m of Object.values(world.models)) expect(readFileSync(join(ws.modelsDir, m.relPath)).equals(m.data), m.filename).toBe(true)
    // bob's clone is up to date, and says so quickly (no merge work)
    const again = ok(await cli(ws, ['-e', 'portraits', 'pull', '--yes', '--models', 'skip']))
    expect(again.stdout).toContain('up to date')
  })

  it('cloning an empty repository says there is no environment in it, and creates nothing', async () => {
    const empty = server.createRepo('empty')
    const ws = await world.newWorkspace('ws-empty')
    const res = await cli(ws, ['--json', 'clone', empty, '--yes'])
    expect(res.code).not.toBe(0)
    expect(res.json<{ error: { code: string, message: string, hint: string } }>().error).toMatchObject({ code: 'MANIFEST_INVALID', message: expect.stringContaining('holds no environment'), hint: expect.stringContaining('comfydock push') })
    expect(existsSync(join(ws.root, 'environments', 'empty'))).toBe(false)
  })

  it('import with a git URL clones, as `clone` does', async () => {
    const ws = await world.newWorkspace('ws-import-git')
    const res = ok(await cli(ws, ['import', url, '--name', 'via-import', '--yes', '--models', 'skip']))
    expect(res.stdout).toContain(`Cloned ${url} into environment "via-import"`)
    expect(git(ws.env('via-import').cec, ['remote', 'get-url', 'origin'])).toBe(url)
  })

  it('pull --preview lists what changes and changes nothing; pull brings workflows in (fast-forward)', async () => {
    const a = alice()
    if (git(bob.env.cec, ['rev-parse', 'HEAD']) !== git(a.env.cec, ['rev-parse', 'HEAD'])) {
      // bob's clone recorded a setup commit of its own: alice takes it first so the next pull is a fast-forward
      ok(await cli(bob.ws, ['-e', 'portraits', 'push']))
      ok(await cli(a.ws, ['-e', 'portraits', 'pull', '--yes', '--models', 'skip']))
    }
    await addWorkflow(a, 'portrait_v2', 'default')
    ok(await cli(a.ws, ['-e', 'portraits', 'push']))
    const before = git(bob.env.cec, ['rev-parse', 'HEAD'])
    const preview = ok(await cli(bob.ws, ['-e', 'portraits', '--json', 'pull', '--preview'])).json<{ kind: string, changes: { workflows: { added: string[] } }, conflicts: unknown[] }>()
    expect(preview.kind).toBe('fast-forward')
    expect(preview.changes.workflows.added).toEqual(['portrait_v2'])
    expect(preview.conflicts).toEqual([])
    expect(git(bob.env.cec, ['rev-parse', 'HEAD'])).toBe(before)
    expect(existsSync(join(bob.env.userWorkflows, 'portrait_v2.json'))).toBe(false)

    const human = ok(await cli(bob.ws, ['-e', 'portraits', 'pull', '--preview']))
    expect(human.stdout).toContain('+ workflow portrait_v2')
    const pulled = ok(await cli(bob.ws, ['-e', 'portraits', 'pull', '--yes', '--models', 'skip']))
    expect(pulled.stdout).toContain('Pull complete')
    expect(git(bob.env.cec, ['rev-parse', 'HEAD'])).toBe(git(a.env.cec, ['rev-parse', 'HEAD']))
    expect(existsSync(join(bob.env.userWorkflows, 'portrait_v2.json'))).toBe(true)
  })

  it('the same workflow changed on both sides is a conflict shown with both sides; nothing changes until a choice; keep both', async () => {
    const a = alice()
    await editWorkflow(a, 'default', 'alice_model.safetensors')
    ok(await cli(a.ws, ['-e', 'portraits', 'push']))
    await editWorkflow(bob, 'default', 'bob_model.safetensors')
    const bobHead = git(bob.env.cec, ['rev-parse', 'HEAD'])

    // bob's push is refused: the remote has alice's commit
    const rejected = await cli(bob.ws, ['-e', 'portraits', '--json', 'push'])
    expect(rejected.code).not.toBe(0)
    expect(rejected.json<{ error: { code: string, hint: string } }>().error).toMatchObject({ code: 'PUSH_REJECTED', hint: expect.stringContaining('comfydock pull') })

    const refused = await cli(bob.ws, ['-e', 'portraits', 'pull', '--yes', '--models', 'skip'])
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toContain('workflow:default')
    expect(refused.stderr).toMatch(/mine:\s+changed/)
    expect(refused.stderr).toContain('--choose')
    expect(git(bob.env.cec, ['rev-parse', 'HEAD'])).toBe(bobHead)
    expect(widget(bob.env, 'default')).toBe('bob_model.safetensors')

    const merged = ok(await cli(bob.ws, ['-e', 'portraits', 'pull', '--yes', '--models', 'skip', '--choose', 'workflow:default=both']))
    expect(merged.stdout).toContain('Pull complete')
    const parents = git(bob.env.cec, ['rev-list', '--parents', '-n1', 'HEAD']).split(' ')
    expect(parents).toHaveLength(3) // a merge commit: bob's and alice's commits
    expect(widget(bob.env, 'default')).toBe('bob_model.safetensors')
    expect(widget(bob.env, 'default (theirs)')).toBe('alice_model.safetensors')
    expect(git(bob.env.cec, ['status', '--porcelain'])).toBe('')
    const doc = await readManifest(bob.env.pyproject)
    expect(Object.keys(doc.tool.comfydock.workflows!).sort()).toEqual(['canny_workflow', 'default', 'default (theirs)', 'portrait_v2'])

    // bob pushes the merge; alice's pull is a fast-forward that brings both
    ok(await cli(bob.ws, ['-e', 'portraits', 'push']))
    ok(await cli(a.ws, ['-e', 'portraits', 'pull', '--yes', '--models', 'skip']))
    expect(widget(a.env, 'default (theirs)')).toBe('alice_model.safetensors')
    expect(widget(a.env, 'default')).toBe('bob_model.safetensors')
  })

  it('uncommitted work is never lost: pull refuses and says so, or commits it first when asked', async () => {
    const a = alice()
    await editWorkflow(a, 'portrait_v2', 'alice_v2.safetensors')
    ok(await cli(a.ws, ['-e', 'portraits', 'push']))
    await editWorkflow(bob, 'canny_workflow', 'bob_unsaved.safetensors', false) // saved in ComfyUI, not committed
    const head = git(bob.env.cec, ['rev-parse', 'HEAD'])
    const refused = await cli(bob.ws, ['-e', 'portraits', '--json', 'pull', '--yes', '--models', 'skip'])
    expect(refused.code).not.toBe(0)
    expect(refused.json<{ error: { code: string, message: string, hint: string } }>().error).toMatchObject({
      code: 'UNCOMMITTED_CHANGES', message: expect.stringContaining('workflow canny_workflow'), hint: expect.stringContaining('--commit-first'),
    })
    expect(git(bob.env.cec, ['rev-parse', 'HEAD'])).toBe(head)
    expect(widget(bob.env, 'canny_workflow')).toBe('bob_unsaved.safetensors')

    const res = ok(await cli(bob.ws, ['-e', 'portraits', 'pull', '--yes', '--models', 'skip', '--commit-first']))
    expect(res.stdout).toContain('your uncommitted work was committed first')
    expect(widget(bob.env, 'canny_workflow')).toBe('bob_unsaved.safetensors')
    expect(widget(bob.env, 'canny_workflow', 'cec')).toBe('bob_unsaved.safetensors')
    expect(widget(bob.env, 'portrait_v2')).toBe('alice_v2.safetensors')
    expect(git(bob.env.cec, ['log', '--format=%s', '-n3'])).toContain('Uncommitted work, kept before pulling origin/main')
    ok(await cli(bob.ws, ['-e', 'portraits', 'push']))
    ok(await cli(a.ws, ['-e', 'portraits', 'pull', '--yes', '--models', 'skip']))

    // a workflow bob saved in ComfyUI but never tracked, under the name alice now shares: his file stays
    const mine = readFileSync(join(bob.env.userWorkflows, 'canny_workflow.json'))
    writeFileSync(join(bob.env.userWorkflows, 'shared_look.json'), mine)
    await addWorkflow(a, 'shared_look', 'default')
    ok(await cli(a.ws, ['-e', 'portraits', 'push']))
    const kept = ok(await cli(bob.ws, ['-e', 'portraits', 'pull', '--yes', '--models', 'skip']))
    expect(kept.stdout).toContain('kept your uncommitted copy in ComfyUI: shared_look')
    expect(readFileSync(join(bob.env.userWorkflows, 'shared_look.json')).equals(mine)).toBe(true)
    expect(readFileSync(join(bob.env.cecWorkflows, 'shared_look.json'), 'utf8')).toBe(readFileSync(join(a.env.cecWorkflows, 'shared_look.json'), 'utf8'))
    // bob keeps his own shared_look: his history moves on from there
    ok(await cli(bob.ws, ['-e', 'portraits', 'commit', '-m', 'my shared_look', '--allow-issues']))
  })
})

describe('a pull killed half-way through its merge', () => {
  it('is undone by the next pull, which says so; what it wrote is shown as uncommitted, never taken silently', async () => {
    const a = alice()
    await editWorkflow(a, 'portrait_v2', 'alice_after_crash.safetensors')
    ok(await cli(a.ws, ['-e', 'portraits', 'push']))
    // what a killed pull leaves: git mid-merge, with some merged files already written (atomically)
    await gitAsync(bob.env.cec, ['fetch', '-q', 'origin']) // the server lives in this process: never a blocking call
    git(bob.env.cec, ['merge', '-q', '--no-ff', '--no-commit', '-s', 'ours', 'origin/main'])
    const committed = readFileSync(bob.env.pyproject, 'utf8')
    writeFileSync(bob.env.pyproject, committed.replace('[tool.comfydock]', '[tool.comfydock]\nhalf_merged = true'))
    const refused = await cli(bob.ws, ['-e', 'portraits', 'pull', '--yes', '--models', 'skip'])
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toContain('stopped half-way')
    expect(refused.stderr).toContain('changed .cec/pyproject.toml')
    expect(existsSync(join(bob.env.cec, '.git', 'MERGE_HEAD'))).toBe(false)
    // discarded as the note says, the pull goes through
    git(bob.env.cec, ['checkout', '--', 'pyproject.toml'])
    ok(await cli(bob.ws, ['-e', 'portraits', 'pull', '--yes', '--models', 'skip']))
    expect(widget(bob.env, 'portrait_v2')).toBe('alice_after_crash.safetensors')
  })
})

describe('packs follow the pulled manifest', () => {
  it('a pack a teammate removed is listed by the preview and removed here by the pull', async () => {
    const a = alice()
    expect(existsSync(join(bob.env.customNodes, 'my-git-pack'))).toBe(true)
    ok(await cli(a.ws, ['-e', 'portraits', 'node', 'remove', 'my-git-pack', '--yes']))
    ok(await cli(a.ws, ['-e', 'portraits', 'commit', '-m', 'drop my-git-pack', '--allow-issues']))
    ok(await cli(a.ws, ['-e', 'portraits', 'push']))
    const preview = ok(await cli(bob.ws, ['-e', 'portraits', '--json', 'pull', '--preview'])).json<{ changes: { packs: { removed: Array<{ name: string }> } } }>()
    expect(preview.changes.packs.removed.map(p => p.name)).toEqual(['my-git-pack'])
    const res = ok(await cli(bob.ws, ['-e', 'portraits', 'pull', '--yes', '--models', 'skip']))
    expect(res.stdout).toContain('packs removed: my-git-pack')
    expect(existsSync(join(bob.env.customNodes, 'my-git-pack'))).toBe(false)
    expect(Object.keys((await readManifest(bob.env.pyproject)).tool.comfydock.nodes ?? {})).not.toContain('my-git-pack')
  })
})

describe('the panel pulls through the sidecar protocol', () => {
  it('env.pullPreview shows the conflict with both sides and changes nothing; env.pull takes the choice', async () => {
    const a = alice()
    await editWorkflow(a, 'default', 'alice_panel.safetensors')
    ok(await cli(a.ws, ['-e', 'portraits', 'push']))
    await editWorkflow(bob, 'default', 'bob_panel.safetensors')
    const head = git(bob.env.cec, ['rev-parse', 'HEAD'])
    const sidecar = await startSidecar({ workspaceRoot: bob.ws.root })
    const client = await connect(sidecar.wsUrl, sidecar.token)
    try {
      const preview = await client.call('env.pullPreview', { env: 'portraits' })
      expect(preview.ok).toBe(true)
      if (!preview.ok) return
      const p = preview.result as PullPreviewResult
      expect(p.kind).toBe('merge')
      expect(p.conflicts.map(c => [c.id, c.mine.summary, c.theirs.summary, c.choices])).toEqual([['workflow:default', 'changed', 'changed', ['mine', 'theirs', 'both']]])
      expect(p.unresolved).toEqual(['workflow:default'])
      expect(git(bob.env.cec, ['rev-parse', 'HEAD'])).toBe(head)

      const open = await client.call('env.pull', { env: 'portraits', models: 'skip' })
      expect(open.ok).toBe(false)
      if (!open.ok) expect(open.error.code).toBe('MERGE_CONFLICT')
      expect(git(bob.env.cec, ['rev-parse', 'HEAD'])).toBe(head)

      const pulled = await client.call('env.pull', { env: 'portraits', models: 'skip', choices: { 'workflow:default': 'theirs' } })
      expect(pulled.ok).toBe(true)
      if (!pulled.ok) return
      const r = pulled.result as PullSummary
      expect(r.ok).toBe(true)
      expect(r.workflowsWritten).toEqual(['default'])
      expect(widget(bob.env, 'default')).toBe('alice_panel.safetensors')
      expect(client.invalid).toEqual([])
    } finally {
      await client.close()
      await sidecar.close()
    }
  })
})

describe('on a terminal, pull asks', () => {
  it('shows both sides of a conflict and takes the choice typed, then applies after a confirmation', async () => {
    const a = alice()
    await editWorkflow(a, 'default', 'alice_tty.safetensors')
    ok(await cli(a.ws, ['-e', 'portraits', 'push']))
    await editWorkflow(bob, 'default', 'bob_tty.safetensors')
    const out = await runOnTty(['--workspace', bob.ws.root, '-e', 'portraits', 'pull', '--models', 'skip'], /which one\?|Apply this pull\?/, ['\u001b[B\r', '\r'])
    expect(out).toContain('workflow default [workflow:default]')
    expect(out).toMatch(/mine \(changed\)[\s\S]*theirs \(changed\)[\s\S]*keep both/)
    expect(out).toContain('Pull complete')
    expect(widget(bob.env, 'default')).toBe('alice_tty.safetensors')
    expect(git(bob.env.cec, ['rev-list', '--parents', '-n1', 'HEAD']).split(' ')).toHaveLength(3)
  })
})

describe('end to end: the environment through git, its models through a real S3-compatible store', () => {
  let s3: S3Server
  beforeAll(async () => {
    s3 = await startS3Server(join(world.root, 's3'))
    await s3.createBucket('team')
  }, 120_000)
  afterAll(async () => { await s3?.stop() })

  const useStore = async (ws: Workspace): Promise<void> => {
    for (const [k, v] of Object.entries({ model_store: 's3://team/models', s3_endpoint: s3.endpoint, s3_access_key_id: S3_KEYS.accessKeyId, s3_secret_access_key: S3_KEYS.secretAccessKey })) {
      await ws.setConfig(k, v, MODEL_SETTINGS)
    }
  }

  it('bob puts a model in the store and pushes; dave clones and gets it from the store, never from the public host', async () => {
    await useStore(bob.ws)
    const m = world.models.checkpoint
    ok(await cli(bob.ws, ['-e', 'portraits', 'model', 'add', m.hash, '--criticality', 'required']))
    const pushed = ok(await cli(bob.ws, ['-e', 'portraits', '--json', 'model', 'push', m.hash])).json<{ uploaded: Array<{ sha256: string }>, present: unknown[] }>()
    const sha = pushed.uploaded[0].sha256
    expect(await s3.headRaw('team', `models/${sha}`)).toBe(m.data.length)
    ok(await cli(bob.ws, ['-e', 'portraits', 'commit', '-m', 'checkpoint in the team store', '--allow-issues']))
    ok(await cli(bob.ws, ['-e', 'portraits', 'push']))
    const doc = await readManifest(bob.env.pyproject)
    expect(doc.tool.comfydock.models![m.hash].sources![0]).toBe(`s3://team/models/${sha}`)

    const dave = await world.newWorkspace('ws-dave')
    await useStore(dave)
    const before = world.files.requests.filter(r => r.path.endsWith(m.filename)).length
    const cloned = ok(await cli(dave, ['clone', url, 'dave-env', '--yes', '--models', 'required']))
    expect(cloned.stdout).toContain('into environment "dave-env"')
    expect(readFileSync(join(dave.modelsDir, m.relPath)).equals(m.data)).toBe(true)
    expect(world.files.requests.filter(r => r.path.endsWith(m.filename)).length).toBe(before)

    // alice's pull brings the model the same way: from the store, by the path repair takes
    const a = alice()
    await useStore(a.ws)
    expect(existsSync(join(a.ws.modelsDir, m.relPath))).toBe(false)
    const pulled = ok(await cli(a.ws, ['-e', 'portraits', 'pull', '--yes', '--models', 'required']))
    expect(pulled.stdout).toContain(`models downloaded: ${m.filename}`)
    expect(readFileSync(join(a.ws.modelsDir, m.relPath)).equals(m.data)).toBe(true)
    expect(world.files.requests.filter(r => r.path.endsWith(m.filename)).length).toBe(before)
  })
})

describe('a private remote: logins from git\'s credential helper, never a prompt', () => {
  let priv: GitHttpServer
  let privUrl: string
  beforeAll(async () => {
    priv = await startGitHttpBackend(join(world.root, 'git-private'), { users: { carol: 's3cret' } })
    privUrl = priv.createRepo('team-env')
  })
  afterAll(async () => { await priv?.close() })

  it('without a login: a clear error naming the fix, at once; with the credential helper: push and clone work', async () => {
    const a = alice()
    ok(await cli(a.ws, ['-e', 'portraits', 'remote', 'add', 'private', privUrl]))
    // no credential helper, no terminal: git must fail, not wait
    const home = makeTempDir('no-creds')
    writeFileSync(join(home, '.gitconfig'), '[user]\n\tname = Carol\n\temail = carol@example.com\n')
    const started = Date.now()
    const denied = await cli(a.ws, ['-e', 'portraits', '--json', 'push', 'private'], { HOME: home, GIT_CONFIG_GLOBAL: join(home, '.gitconfig') })
    expect(Date.now() - started).toBeLessThan(30_000)
    expect(denied.code).not.toBe(0)
    const err = denied.json<{ error: { code: string, message: string, hint: string } }>().error
    expect(err.code).toBe('REMOTE_AUTH_FAILED')
    expect(err.message).toContain('127.0.0.1')
    expect(err.hint).toContain('credential helper')

    // git's own credential store, as `git config credential.helper store` keeps it
    const store = join(home, 'git-credentials')
    const u = new URL(privUrl)
    writeFileSync(store, `http://carol:s3cret@${u.host}\n`)
    writeFileSync(join(home, '.gitconfig'), `[user]\n\tname = Carol\n\temail = carol@example.com\n[credential]\n\thelper = store --file=${store}\n`)
    const creds = { HOME: home, GIT_CONFIG_GLOBAL: join(home, '.gitconfig') }
    ok(await cli(a.ws, ['-e', 'portraits', 'push', 'private'], creds))
    expect(git(priv.pathOf('team-env'), ['rev-parse', 'main'])).toBe(git(a.env.cec, ['rev-parse', 'HEAD']))
    expect(priv.requests.some(r => r.user === 'carol')).toBe(true)
    // the password never lands in the environment's git config
    expect(readFileSync(join(a.env.cec, '.git', 'config'), 'utf8')).not.toContain('s3cret')

    const carol = await world.newWorkspace('ws-carol')
    const cloned = ok(await cli(carol, ['clone', privUrl, 'carols', '--yes', '--models', 'skip'], creds))
    expect(cloned.stdout).toContain('into environment "carols"')
    expect(git(carol.env('carols').cec, ['merge-base', '--is-ancestor', git(a.env.cec, ['rev-parse', 'HEAD']), 'HEAD'])).toBe('')

    const refused = await cli(a.ws, ['-e', 'portraits', '--json', 'remote', 'add', 'leaky', privUrl.replace('http://', 'http://carol:s3cret@')])
    expect(refused.json<{ error: { code: string } }>().error.code).toBe('INVALID_ARGUMENT')

    ok(await cli(a.ws, ['-e', 'portraits', 'remote', 'remove', 'private']))
    expect(ok(await cli(a.ws, ['-e', 'portraits', '--json', 'remote', 'list'])).json<{ remotes: Array<{ name: string }> }>().remotes.map(r => r.name)).not.toContain('private')
    const gone = await cli(a.ws, ['-e', 'portraits', '--json', 'push', 'private'])
    expect(gone.json<{ error: { code: string, hint: string } }>().error).toMatchObject({ code: 'REMOTE_NOT_FOUND', hint: expect.stringContaining('remote add private') })
  })
})
