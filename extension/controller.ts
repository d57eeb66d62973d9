/**
 * @module The panel's state and actions. The DOM is re-rendered from this state (ComfyUI destroys
 * the sidebar DOM whenever the tab closes), and every action reports its outcome as a toast.
 */
import type {
  EnvStatusResult, EnvSummaryResult, HelloResult, LogEntryResult, MethodName, MethodResults, MissingModel, MissingNode, ProgressEvent, PullPreviewResult, PullSummary, WorkflowAnalysisResult,
} from '../sidecar/protocol'
import { discoverSidecar } from './bridge'
import { SidecarConnection, SidecarError, type CallOptions, type ConnectionState } from './connection'
import { comfyFetch, confirmDialog, detectSupport, reportContext, toast, type GraphJson, type Severity, type Support } from './host'
import { RuntimeContextSource } from './runtime-context'
import { withoutCommands } from './user-text'
import { loadIntoTab, openTabs, reloadFromDisk, saveToDisk, tabGraph, type OpenTab } from './workflow-tabs'

export interface TabView {
  tab: OpenTab
  analysis?: WorkflowAnalysisResult
}

export interface PanelState {
  support: Support
  connection: ConnectionState
  connectionDetail: string
  hello?: HelloResult
  /** The workspace's environments, read when none is active (the panel offers to use one). */
  envs?: EnvSummaryResult[]
  status?: EnvStatusResult
  tabs: TabView[]
  log: LogEntryResult[]
  selected: Set<string>
  /** Running operations by op id (removed when they end). */
  ops: Map<string, ProgressEvent>
  /** Downloads, installs, adopt: one per request, with live progress and a Cancel button. */
  jobs: Map<string, Job>
  busy: string | null
  /** The pull the user is looking at (Pull, then Apply or Close). */
  pull?: PullView
}

export type PullChoice = 'mine' | 'theirs' | 'both'

/** A pull's preview, the user's answer to each conflict, and the sidecar's refusal when there was one. */
export interface PullView {
  remote: string
  preview: PullPreviewResult
  choices: Record<string, PullChoice>
  /** Why the last Apply changed nothing (uncommitted work), shown with a "Commit first" button. */
  refused?: string
}

/** A long request the user started from the panel and can cancel (`op.cancel` for its request id). */
export interface Job {
  request: string
  label: string
  /** The step now under way ("download sd_xl_base.safetensors", "install comfyui-impact-pack"). */
  step?: string
  /** Bytes or items of that step, when it counts them. */
  current?: number
  total?: number
  unit?: 'bytes' | 'items'
  /** Transfers tried again so far. */
  retries: number
  cancelling: boolean
}

export class Controller {
  readonly state: PanelState
  readonly conn: SidecarConnection
  private readonly listeners = new Set<() => void>()
  private refreshTimer: ReturnType<typeof setTimeout> | null = null
  /** The full status (Python, nodes...) is slower: asked on connect, on open and after changes, not on every edit. */
  private fullStatusDue = true
  private readonly runtime = new RuntimeContextSource()
  /** The runtime context the sidecar holds for this connection (`session` counts reconnects). */
  private contextSent: { session: number, key: string } | null = null
  private contextSync: Promise<void> | null = null

  constructor () {
    this.state = { support: detectSupport(), connection: 'unconfigured', connectionDetail: '', tabs: [], log: [], selected: new Set(), ops: new Map(), jobs: new Map(), busy: null }
    this.conn = new SidecarConnection({
      state: (s, detail) => {
        this.state.connection = s
        this.state.connectionDetail = detail ?? ''
        if (s === 'open') { this.fullStatusDue = true; void this.refresh() }
        this.emit()
      },
      changed: (_env, method) => {
        if (method === 'models.download') this.runtime.modelsChanged()
        this.fullStatusDue = true
        this.scheduleRefresh(50)
      },
      progress: (request, e) => this.track(request, e),
    })
  }

  subscribe (fn: () => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  /** Re-renders from the state (a choice in the panel that changes what it shows). */
  emit (): void {
    for (const fn of this.listeners) fn()
  }

  has (method: MethodName): boolean {
    return Boolean(this.state.hello?.methods.includes(method))
  }

  /**
   * Uncommitted changes: files changed in .cec plus tracked tabs that differ from their last commit.
   * An untracked tab is not a change to the environment until it is committed.
   */
  badge (): string | null {
    const n = (this.state.status?.changes.length ?? 0) + this.state.tabs.filter(t => t.analysis?.tracked && t.analysis.differsFromCommit).length
    return n > 0 ? String(n) : null
  }

  private discovery = 0

  async connect (): Promise<void> {
    // settings can change again while the bridge is still answering: only the latest look-up counts
    const mine = ++this.discovery
    const found = await discoverSidecar()
    if (mine !== this.discovery) return
    this.runtime.setLoadFailures(found.loadFailures)
    if (found.target) this.conn.configure(found.target)
    else this.conn.configure(null, found.reason)
  }

  requestFullStatus (): void {
    this.fullStatusDue = true
  }

  /** When the pending refresh was first asked for: a steady stream of events must not postpone it forever. */
  private refreshDueSince = 0

  scheduleRefresh (delay = 800): void {
    const now = Date.now()
    if (this.refreshTimer) {
      if (now - this.refreshDueSince > 1500) return
      clearTimeout(this.refreshTimer)
    } else {
      this.refreshDueSince = now
    }
    this.refreshTimer = setTimeout(() => { this.refreshTimer = null; void this.refresh() }, delay)
  }

  private track (request: string, e: ProgressEvent): void {
    const job = this.state.jobs.get(request)
    if (job) {
      // a job shows its latest step, counted where the step counts (bytes of a download)
      if (e.retries) job.retries = Math.max(job.retries, e.retries)
      if (e.phase === 'start' || e.phase === 'progress') {
        if (job.step !== e.label) { job.current = undefined; job.total = undefined; job.unit = undefined }
        job.step = e.label
        if (e.current !== undefined) job.current = e.current
        if (e.total !== undefined) job.total = e.total
        if (e.unit) job.unit = e.unit
      }
    } else if (e.phase === 'end') this.state.ops.delete(e.op)
    else if (e.phase !== 'note') this.state.ops.set(e.op, e)
    this.emit()
  }

  /**
   * Runs a long request as a job: its progress is shown with a Cancel button. A cancelled request
   * changes nothing (the core keeps the state from before it) and is said to be cancelled, not failed.
   */
  private async runJob<T> (label: string, call: (opts: CallOptions) => Promise<T>): Promise<T | undefined> {
    let request: string | null = null
    try {
      return await call({
        onStart: id => {
          request = id
          this.state.jobs.set(id, { request: id, label, retries: 0, cancelling: false })
          this.emit()
        },
      })
    } catch (err) {
      if (err instanceof SidecarError && err.code === 'CANCELLED') {
        this.toast('info', `${label} cancelled`, 'Nothing was changed.')
        return undefined
      }
      throw err
    } finally {
      if (request) this.state.jobs.delete(request)
      this.emit()
    }
  }

  /** Stops a job's request (the Cancel button). */
  async cancel (request: string): Promise<void> {
    const job = this.state.jobs.get(request)
    if (!job || job.cancelling) return
    job.cancelling = true
    this.emit()
    try {
      await this.conn.cancel(request)
    } catch (err) {
      job.cancelling = false
      this.fail('Cancel', err)
    }
  }

  toast (severity: Severity, summary: string, detail?: string): void {
    // an error report made from the toast names the frontend it happened in (a HostError already does)
    const context = reportContext()
    if (severity === 'error' && !detail?.includes(context)) detail = detail ? `${detail}\n(${context})` : context
    toast(severity, summary, detail)
  }

  private fail (what: string, err: unknown): void {
    // the sidecar's hints name CLI commands; the panel's buttons are the way to act here
    const hint = err instanceof SidecarError && err.hint ? withoutCommands(err.hint) : ''
    const detail = err instanceof SidecarError
      ? `${withoutCommands(err.message) || err.message}${hint ? `\n${hint}` : ''}`
      : err instanceof Error ? err.message : String(err)
    this.toast('error', `${what} failed`, detail)
  }

  private refreshing: Promise<void> | null = null
  private refreshAgain = false

  /**
   * Reads tabs from the browser and status/history/analysis from the sidecar. Calls while one runs
   * share it (and make it run once more at the end): edits, saves and "changed" events come in bursts.
   */
  refresh (): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true
      return this.refreshing
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false
        await this.refreshOnce()
      } while (this.refreshAgain)
    })().finally(() => { this.refreshing = null })
    return this.refreshing
  }

  private async refreshOnce (): Promise<void> {
    const tabs = openTabs()
    const previous = new Map(this.state.tabs.map(t => [t.tab.name, t.analysis]))
    this.state.tabs = tabs.map(tab => ({ tab, analysis: previous.get(tab.name) }))
    for (const name of [...this.state.selected]) if (!tabs.some(t => t.name === name)) this.state.selected.delete(name)
    this.emit()
    if (this.state.connection !== 'open') return
    try {
      this.state.hello = await this.conn.call('server.hello', {})
      if (!this.state.hello.activeEnv) {
        this.state.status = undefined
        this.state.log = []
        if (!this.state.hello.unmanagedComfyui && this.has('env.list')) this.state.envs = await this.conn.call('env.list', {})
        this.emit()
        return
      }
      if (this.has('env.status')) {
        const status = await this.conn.call('env.status', {})
        this.state.status = { ...status, details: this.state.status?.details }
      }
      // which commits hold each open workflow: Restore is offered on those only
      if (this.has('env.log')) this.state.log = await this.conn.call('env.log', { limit: 30, workflows: [...new Set(tabs.map(t => t.name))].slice(0, 200) })
      if (this.has('workflows.analyze') && tabs.length) {
        // a tab the frontend is still opening is left out of this round, not the whole refresh
        const read = await Promise.all(tabs.map(async tab => ({ name: tab.name, json: await tabGraph(tab).catch(() => null), saved: tab.persisted && !tab.modified })))
        const workflows = read.filter((w): w is { name: string, json: GraphJson, saved: boolean } => w.json !== null)
        await this.syncContext()
        const results = await this.conn.call('workflows.analyze', { workflows })
        const byName = new Map(results.map(r => [r.name, r]))
        this.state.tabs = tabs.map(tab => ({ tab, analysis: byName.get(tab.name) }))
      }
      this.emit()
      // the slow part (Python packages, packs) runs beside later refreshes instead of holding them up
      if (this.fullStatusDue && this.has('env.status')) void this.fullStatus()
    } catch (err) {
      if (!(err instanceof SidecarError && err.code === 'OFFLINE')) this.fail('Refresh', err)
    }
    this.emit()
  }

  private fullStatusRunning = false

  private async fullStatus (): Promise<void> {
    if (this.fullStatusRunning) return
    this.fullStatusRunning = true
    this.fullStatusDue = false
    try {
      const status = await this.conn.call('env.status', { full: true })
      // a refresh since may have found another environment, or none (the full status is slow): it stands
      if (status.env !== this.state.hello?.activeEnv) return
      this.state.status = status
      this.emit()
    } catch (err) {
      if (!(err instanceof SidecarError && err.code === 'OFFLINE')) this.fail('Refresh', err)
    } finally {
      this.fullStatusRunning = false
    }
  }

  /**
   * Makes sure the sidecar holds this page's runtime context for the current connection: each large
   * part by hash first (a reconnect or another tab may have sent it), by value only when it asks.
   */
  private syncContext (): Promise<void> {
    return (this.contextSync ??= (async () => {
      try {
        const ctx = await this.runtime.current()
        const session = this.conn.session
        if (this.contextSent?.session === session && this.contextSent.key === ctx.key) return
        const byHash = {
          ...(ctx.objectInfo ? { objectInfo: { hash: ctx.objectInfo.hash } } : {}),
          ...(ctx.modelLists ? { modelLists: { hash: ctx.modelLists.hash } } : {}),
          ...(ctx.loadFailures.length ? { loadFailures: ctx.loadFailures } : {}),
        }
        const { missing } = await this.conn.call('session.context', byHash)
        if (missing.length) {
          const full = { ...byHash }
          for (const part of missing) if (ctx[part]) full[part] = ctx[part] as never
          await this.conn.call('session.context', full)
        }
        this.contextSent = { session, key: ctx.key }
      } finally {
        this.contextSync = null
      }
    })())
  }

  private async runBusy<T> (label: string, fn: () => Promise<T>): Promise<T | undefined> {
    if (this.state.busy) {
      this.toast('warn', `${this.state.busy} is still running`)
      return undefined
    }
    this.state.busy = label
    this.emit()
    try {
      return await fn()
    } catch (err) {
      this.fail(label, err)
      return undefined
    } finally {
      this.state.busy = null
      this.emit()
    }
  }

  /** Commits the in-browser state of the selected tabs and saves them to ComfyUI's disk. */
  async commit (message: string, allowIssues = false): Promise<boolean> {
    const chosen = this.state.tabs.filter(t => this.state.selected.has(t.tab.name))
    if (!chosen.length) { this.toast('warn', 'Select at least one workflow to commit'); return false }
    if (!message.trim()) { this.toast('warn', 'Write a commit message first'); return false }
    const done = await this.runBusy('Commit', async () => {
      const workflows: Array<{ name: string, json: GraphJson }> = []
      for (const t of chosen) workflows.push({ name: t.tab.name, json: await tabGraph(t.tab) })
      // Each tab's save is its own file and workflow object: all at once (ten in a row took 170 ms).
      // A tab never saved gets its file before the commit: the sidecar records a handed-in workflow with
      // no file in ComfyUI's user folder as living in the browser. A file that exists is rewritten while
      // the sidecar commits: the saves took half of the click-to-commit time when they came first. They
      // start once the commit request is sent: started before it, ComfyUI's server (which carries the
      // panel's socket to the sidecar) handled the ten saves first and held the request up to 60 ms.
      const save = (i: number): Promise<void> => saveToDisk(workflows[i].name, workflows[i].json, chosen[i].tab)
      const all = workflows.map((_, i) => i)
      await Promise.all(all.filter(i => !chosen[i].tab.persisted).map(save))
      let saving: Promise<unknown> | null = null
      const startSaves = (): Promise<unknown> =>
        (saving ??= Promise.all(all.filter(i => chosen[i].tab.persisted).map(save)).then(() => null, (err: unknown) => err))
      const commitTabs = async (): Promise<MethodResults['workflows.commit'] | null> => {
        await this.syncContext()
        const params = { message: message.trim(), workflows }
        try {
          return await this.conn.call('workflows.commit', { ...params, ...(allowIssues ? { allowIssues } : {}) }, { onStart: () => { void startSaves() } })
        } catch (err) {
          if (!(err instanceof SidecarError && err.code === 'WORKFLOW_UNRESOLVED') || allowIssues) throw err
          if (!await confirmDialog('Commit with unresolved issues?', `${err.message}\n\nCommit anyway? The issues are recorded and can be fixed later.`)) return null
          return await this.conn.call('workflows.commit', { ...params, allowIssues: true })
        }
      }
      const outcome = await commitTabs().then(res => ({ res }), (err: unknown) => ({ err }))
      // the saves happen whatever became of the commit (a request never sent did not start them)
      const saveError = await startSaves()
      // the commit stands even when ComfyUI did not take a file: both are told
      if (saveError) this.fail('Saving to ComfyUI', saveError)
      if ('err' in outcome) throw outcome.err
      const res = outcome.res
      if (!res) return false
      this.toast('success', res.short ? `Committed ${res.short}` : 'Nothing new to commit', workflows.map(w => w.name).join(', '))
      return true
    })
    if (done) this.state.selected.clear()
    void this.refresh()
    return Boolean(done)
  }

  async restore (name: string, ref: string): Promise<void> {
    const open = this.state.tabs.find(t => t.tab.name === name)
    if (open?.tab.modified && !await confirmDialog('Restore workflow', `"${name}" has unsaved edits in this tab. Discard them and load version ${ref.slice(0, 7)}?`)) return
    await this.runBusy('Restore', async () => {
      let res
      try {
        res = await this.conn.call('workflows.restore', { name, ref })
      } catch (err) {
        if (!(err instanceof SidecarError && err.code === 'UNCOMMITTED_CHANGES')) throw err
        if (!await confirmDialog('Restore workflow', `ComfyUI's saved copy of "${name}" has changes that are not committed. Discard them and load version ${ref.slice(0, 7)}?`)) return
        res = await this.conn.call('workflows.restore', { name, ref, overwrite: true })
      }
      await loadIntoTab(res.name, res.json)
      this.toast('success', `Restored ${res.name}`, `from ${ref.slice(0, 7)}`)
    })
    void this.refresh()
  }

  async download (model: MissingModel): Promise<void> {
    if (!model.url) { this.toast('warn', `No download source known for ${model.value}`); return }
    await this.runBusy(`Download ${model.value}`, async () => {
      const done = await this.runJob(`Download ${model.value}`, opts => this.conn.call('models.download', { url: model.url!, ...(model.hash ? { expectedHash: model.hash } : {}), ...(model.folder ? { folder: model.folder, relPath: `${model.folder}/${model.value.replace(/\\/g, '/')}` } : {}) }, opts))
      if (done) this.toast('success', `Downloaded ${model.value}`)
    })
  }

  async install (node: MissingNode): Promise<void> {
    if (!node.pack) return
    await this.runBusy(`Install ${node.pack}`, async () => {
      const res = await this.runJob(`Install ${node.pack}`, opts => this.conn.call('nodes.install', { specs: [node.pack!] }, opts))
      if (!res) return
      if (res.failed.length) this.toast('error', `Install of ${node.pack} failed`, res.failed.map(f => f.error.message).join('\n'))
      else this.toast('success', `Installed ${res.installed.join(', ')}`, 'Restart ComfyUI to load new nodes.')
    })
  }

  /** Commits the environment as it is on disk (asks before committing unresolved issues). False when the user declined. */
  private async commitEnvironment (message: string): Promise<boolean> {
    try {
      await this.conn.call('env.commit', { message })
    } catch (err) {
      if (!(err instanceof SidecarError && err.code === 'WORKFLOW_UNRESOLVED')) throw err
      if (!await confirmDialog('Commit with unresolved issues?', `${err.message}\n\nCommit anyway? The issues are recorded and can be fixed later.`)) return false
      await this.conn.call('env.commit', { message, allowIssues: true })
    }
    return true
  }

  /** Makes the environment match its manifest: `files` (packs, models, workflows) or `python` (the venv). */
  async repair (only?: 'files' | 'python'): Promise<void> {
    await this.runBusy('Repair', async () => {
      const res = await this.runJob(only === 'python' ? 'Repair Python packages' : 'Repair', opts => this.conn.call('env.repair', only ? { only } : {}, opts))
      if (!res) return
      const done = [
        res.installed.length && `installed ${res.installed.join(', ')}`,
        res.downloaded.length && `downloaded ${res.downloaded.join(', ')}`,
        res.restored.length && `put back ${res.restored.join(', ')}`,
        res.pythonSynced && 'Python packages synced',
      ].filter(Boolean).join('; ')
      if (res.ok) this.toast('success', 'Repaired', done || 'Nothing needed repair.')
      else this.toast('error', 'Repair left problems', [...res.failed.map(f => `${f.item}: ${f.error.message}`), done].filter(Boolean).join('\n'))
    })
    this.requestFullStatus()
    void this.refresh()
  }

  /** Makes `name` the workspace's active environment; the panel then works on it. */
  async useEnvironment (name: string): Promise<void> {
    await this.runBusy(`Use ${name}`, async () => {
      await this.conn.call('env.use', { name })
      this.toast('success', `Using environment "${name}"`)
    })
    this.requestFullStatus()
    void this.refresh()
  }

  /** Makes an environment of the unmanaged ComfyUI the sidecar runs next to; the panel then works on it. */
  async adopt (): Promise<void> {
    await this.runBusy('Adopt', async () => {
      const res = await this.runJob('Adopt this ComfyUI', opts => this.conn.call('env.adopt', {}, opts))
      if (!res) return
      const notes = [
        `${res.installed.length} pack(s) installed, ${res.development.length} development node(s), ${res.workflows.length} workflow(s) tracked`,
        ...res.failed.map(f => `${f.item}: ${f.error.message}`),
        ...res.notAdopted.map(n => `not adopted: ${n.item} (${n.reason})`),
      ].join('\n')
      this.toast(res.ok ? 'success' : 'warn', `Adopted as environment "${res.name}"`, notes)
    })
    this.requestFullStatus()
    void this.refresh()
  }

  /** The remote Pull uses: origin when the environment has it, else its only one. */
  pullRemote (): string | null {
    const remotes = this.state.status?.remotes ?? []
    return remotes.includes('origin') ? 'origin' : remotes.length === 1 ? remotes[0] : null
  }

  /** Fetches the remote and shows what a pull would change and what conflicts; nothing changes yet. */
  async previewPull (): Promise<void> {
    const remote = this.pullRemote()
    if (!remote) return
    await this.runBusy('Pull', async () => {
      const preview = await this.runJob(`Check ${remote} for changes`, opts => this.conn.call('env.pullPreview', { remote }, opts))
      if (preview) this.state.pull = { remote, preview, choices: {} }
    })
  }

  choosePull (id: string, choice: PullChoice): void {
    if (!this.state.pull) return
    this.state.pull.choices[id] = choice
    this.emit()
  }

  closePull (): void {
    this.state.pull = undefined
    this.emit()
  }

  /**
   * Applies the previewed pull with the user's choices, then reloads the open tabs of the workflows it
   * wrote, except tabs with unsaved edits: those are never touched, and the toast says so.
   */
  async applyPull (commitFirst = false): Promise<void> {
    const view = this.state.pull
    if (!view) return
    await this.runBusy('Pull', async () => {
      let res: PullSummary | undefined
      try {
        res = await this.runJob(`Pull from ${view.remote}`, opts => this.conn.call('env.pull', {
          remote: view.remote, choices: view.choices, ...(commitFirst ? { commitFirst } : {}),
        }, opts))
      } catch (err) {
        if (!(err instanceof SidecarError && err.code === 'UNCOMMITTED_CHANGES')) throw err
        // nothing changed: the panel shows why, with the way on (Commit first)
        view.refused = withoutCommands(err.message) || err.message
        return
      }
      if (!res) return
      this.state.pull = undefined
      const reloaded: string[] = []
      const unsaved: string[] = []
      const failed: string[] = []
      for (const name of res.workflowsWritten) {
        try {
          const done = await reloadFromDisk(name)
          if (done === 'reloaded') reloaded.push(name)
          else if (done === 'unsaved') unsaved.push(name)
        } catch (err) {
          failed.push(`${name}: ${err instanceof Error ? err.message : String(err)}`)
        }
      }
      const lines = [
        res.committedFirst ? `Your uncommitted work was committed first (${res.committedFirst.slice(0, 7)}).` : '',
        reloaded.length ? `Reloaded ${reloaded.join(', ')}.` : '',
        unsaved.length ? `Not reloaded, it has unsaved edits: ${unsaved.join(', ')}. The pulled version is saved in ComfyUI; your edits stay in the tab.` : '',
        ...failed.map(f => `Not reloaded: ${f}`),
        ...res.failed.map(f => `${f.item}: ${withoutCommands(f.error.message) || f.error.message}`),
      ].filter(Boolean).join('\n')
      const title = res.preview.kind === 'up-to-date' ? 'Already up to date' : `Pulled from ${view.remote}${res.commit ? ` (${res.commit.slice(0, 7)})` : ''}`
      this.toast(res.ok && !failed.length ? (unsaved.length ? 'warn' : 'success') : 'error', res.ok ? title : `${title}, with problems (Repair finishes it)`, lines || undefined)
    })
    this.requestFullStatus()
    void this.refresh()
  }

  async exportEnvironment (): Promise<void> {
    if (!this.has('env.export')) {
      this.toast('warn', 'Export is not available', this.state.connection === 'open' ? 'This sidecar does not offer export.' : 'The comfydock sidecar is not connected.')
      return
    }
    this.toast('info', 'Exporting environment…')
    await this.runBusy('Export', async () => {
      let res
      let allowIssues = false
      for (let round = 0; !res; round++) {
        try {
          res = await this.conn.call('env.export', allowIssues ? { allowIssues } : {})
        } catch (err) {
          if (!(err instanceof SidecarError) || round > 2) throw err
          if (err.code === 'UNCOMMITTED_CHANGES') {
            // the action, not a command to type: commit what is on disk, then export that commit
            if (!await confirmDialog('Commit and export', `${err.message}\n\nCommit these changes ("Before export") and export? Unsaved edits in open tabs are not included: commit those tabs first to include them.`)) return
            if (!await this.commitEnvironment('Before export')) return
          } else if (err.code === 'EXPORT_BLOCKED' && !allowIssues) {
            if (!await confirmDialog('Export with unresolved issues?', `${err.message}\n\nExport anyway? Whoever imports it will have to resolve them.`)) return
            allowIssues = true
          } else {
            throw err
          }
        }
      }
      const url = this.conn.httpUrl(res.downloadPath)
      if (!url) throw new SidecarError({ code: 'OFFLINE', message: 'the sidecar connection was lost before the download' })
      const a = document.createElement('a')
      a.href = url
      a.download = res.file
      a.rel = 'noopener'
      document.body.appendChild(a)
      a.click()
      a.remove()
      this.toast('success', `Exported ${res.file}`, `${(res.size / 1024).toFixed(1)} KiB`)
    })
  }
}
