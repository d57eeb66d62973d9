// A stand-in for ComfyUI's frontend (as of 1.4.13) offering only its public extension surface:
// app.registerExtension, app.extensionManager {sidebarTab, toast, command, setting, workflow},
// app.graph (a real @comfyorg/litegraph LGraph), app.loadGraphData and api.fetchApi.
// Node types are built from the real object_info of ComfyUI v0.3.7.
import { LGraph, LGraphNode, LiteGraph } from '/lib/litegraph.es.js'

// ?version=X&noWorkflowStore=1 imitate an older frontend, below the extension's floor
const query = new URLSearchParams(location.search)
window.__COMFYUI_FRONTEND_VERSION__ = query.get('version') ?? '1.4.13'

const api = {
  listeners: {},
  fetchApi (route, init) { return fetch('/api' + route, init) },
  addEventListener (name, fn) { (this.listeners[name] ??= []).push(fn) },
  dispatch (name, detail) { for (const fn of this.listeners[name] ?? []) fn(new CustomEvent(name, { detail })) },
}

async function registerNodeTypes () {
  const info = await (await fetch('/api/object_info')).json()
  for (const [type, def] of Object.entries(info)) {
    class Node extends LGraphNode {
      constructor (title) {
        super(title ?? def.display_name)
        // as ComfyUI's node classes do: widget values are part of the saved graph
        this.serialize_widgets = true
        for (const name of def.input_order.required ?? []) {
          const spec = def.input.required[name]
          if (Array.isArray(spec[0])) this.addWidget('combo', name, spec[0][0], () => {}, { values: spec[0] })
          else if (spec[0] === 'INT' || spec[0] === 'FLOAT') this.addWidget('number', name, spec[1]?.default ?? 0, () => {}, {})
          else if (spec[0] === 'STRING') this.addWidget('text', name, spec[1]?.default ?? '', () => {}, {})
          else this.addInput(name, spec[0])
        }
        def.output.forEach((o, i) => this.addOutput(def.output_name[i] ?? o, o))
      }
    }
    Node.comfyClass = type
    LiteGraph.registerNodeType(type, Node)
  }
}

const graph = new LGraph()
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b)

class ChangeTracker {
  constructor (workflow, state) { this.workflow = workflow; this.activeState = state; this.initialState = structuredClone(state) }
  checkState () {
    if (store.activeWorkflow !== this.workflow) return
    const now = graph.serialize()
    if (!same(now, this.activeState)) { this.activeState = now; api.dispatch('graphChanged', now) }
    this.workflow.isModified = !same(this.activeState, this.initialState)
  }
  reset (state) {
    if (state) this.activeState = structuredClone(state)
    this.initialState = structuredClone(this.activeState)
    this.workflow.isModified = false
  }
}

class Workflow {
  constructor (path, state, persisted) {
    this.path = path
    this.key = path.slice('workflows/'.length)
    this.filename = this.key.replace(/\.json$/, '')
    this.isPersisted = persisted
    this.isTemporary = !persisted
    this.isModified = false
    this.changeTracker = new ChangeTracker(this, state)
  }

  // as ComfyWorkflow.save(): the active state through the userdata API; a temporary tab never overwrites
  async save () {
    const res = await api.fetchApi(`/userdata/${encodeURIComponent(this.path)}?overwrite=${this.isPersisted}`, { method: 'POST', body: JSON.stringify(this.changeTracker.activeState) })
    if (res.status !== 200) throw new Error(`Error saving user data file '${this.path}': ${res.status}`)
    this.isPersisted = true
    this.isTemporary = false
    this.changeTracker.reset()
  }
}

const emptyGraph = () => { const g = new LGraph(); return g.serialize() }

const store = {
  workflows: [],
  openWorkflows: [],
  activeWorkflow: null,
  actionListeners: [],
  $onAction (fn) { this.actionListeners.push(fn) },
  action (name, fn) {
    const afters = []
    for (const l of this.actionListeners) l({ name, after: cb => afters.push(cb) })
    const r = fn()
    for (const cb of afters) cb(r)
    return r
  },
  getWorkflowByPath (path) { return this.workflows.find(w => w.path === path) ?? null },
  async syncWorkflows () {
    const names = await (await api.fetchApi('/userdata?dir=workflows')).json().catch(() => [])
    for (const n of Array.isArray(names) ? names : []) {
      const path = `workflows/${n}`
      const w = this.getWorkflowByPath(path)
      if (w) { w.isPersisted = true; w.isTemporary = false }
    }
  },
  openWorkflow (w) {
    return this.action('openWorkflow', () => {
      if (this.activeWorkflow) this.activeWorkflow.changeTracker.checkState()
      if (!this.workflows.includes(w)) this.workflows.push(w)
      if (!this.openWorkflows.includes(w)) this.openWorkflows.push(w)
      this.activeWorkflow = w
      graph.configure(structuredClone(w.changeTracker.activeState))
      return w
    })
  },
  createTemporary (name, state) {
    return this.action('createTemporary', () => new Workflow(`workflows/${name}.json`, state ?? emptyGraph(), false))
  },
}

let tempCount = 0
const extensions = []
const commands = new Map()
const settings = new Map()
const sidebarTabs = []

const extensionManager = {
  sidebarTab: { registerSidebarTab (tab) { sidebarTabs.push(tab); renderSidebar() } },
  registerSidebarTab (tab) { this.sidebarTab.registerSidebarTab(tab) },
  toast: {
    add (t) {
      const el = document.createElement('div')
      el.className = `toast toast-${t.severity}`
      el.textContent = `${t.summary}${t.detail ? ': ' + t.detail : ''}`
      document.getElementById('toasts').append(el)
    },
  },
  command: {
    get commands () { return [...commands.values()] },
    execute (id) { const c = commands.get(id); if (!c) throw new Error(`no command ${id}`); return c.function() },
  },
  setting: {
    get (id) { return settings.get(id) },
    set (id, v) { const old = settings.get(id); settings.set(id, v); settingDefs.get(id)?.onChange?.(v, old) },
  },
  workflow: store,
}
if (query.get('noWorkflowStore')) delete extensionManager.workflow
const settingDefs = new Map()

function renderSidebar () {
  const bar = document.getElementById('sidebar')
  bar.replaceChildren()
  for (const tab of sidebarTabs) {
    const b = document.createElement('button')
    b.className = `${tab.id}-tab-button`
    b.title = tab.tooltip ?? tab.title
    b.innerHTML = `<i class="${tab.icon}"></i><span class="badge"></span>`
    b.onclick = () => {
      const panel = document.getElementById('sidebar-panel')
      panel.replaceChildren()
      tab.render(panel)
    }
    bar.append(b)
  }
}

setInterval(() => {
  for (const tab of sidebarTabs) {
    const badge = document.querySelector(`.${tab.id}-tab-button .badge`)
    if (badge) badge.textContent = (typeof tab.iconBadge === 'function' ? tab.iconBadge() : tab.iconBadge) ?? ''
  }
}, 100)

function renderMenu (ext) {
  const menu = document.getElementById('menu')
  for (const group of ext.menuCommands ?? []) {
    for (const id of group.commands) {
      const c = commands.get(id)
      const item = document.createElement('button')
      item.className = 'menu-item'
      item.dataset.path = group.path.join('/')
      item.textContent = c?.menubarLabel ?? c?.label ?? id
      item.onclick = () => extensionManager.command.execute(id)
      menu.append(item)
    }
  }
}

document.addEventListener('keydown', e => {
  for (const ext of extensions) {
    for (const kb of ext.keybindings ?? []) {
      const k = kb.combo
      if (e.key.toLowerCase() === k.key && !!k.ctrl === e.ctrlKey && !!k.alt === e.altKey && !!k.shift === e.shiftKey) extensionManager.command.execute(kb.commandId)
    }
  }
})

const app = {
  graph,
  extensionManager,
  registerExtension (ext) {
    if (extensions.some(e => e.name === ext.name)) throw new Error(`Extension named '${ext.name}' already registered.`)
    extensions.push(ext)
    for (const c of ext.commands ?? []) commands.set(c.id, c)
    for (const s of ext.settings ?? []) { settingDefs.set(s.id, s); if (!settings.has(s.id)) settings.set(s.id, s.defaultValue) }
    renderMenu(ext)
  },
  async loadGraphData (json, clean = true, restoreView = true, workflow = null) {
    let w = typeof workflow === 'string' ? store.createTemporary(workflow, json) : workflow
    if (!w) w = store.createTemporary(`Unsaved Workflow (${++tempCount})`, json)
    const wasOpen = store.openWorkflows.includes(w)
    store.openWorkflow(w)
    graph.configure(structuredClone(json))
    if (wasOpen) w.changeTracker.checkState()
    else { w.changeTracker.activeState = graph.serialize(); w.changeTracker.reset() }
  },
}

window.comfyAPI = { app: { app }, api: { api } }

// Helpers for the test driver (what a user does with the mouse).
window.__harness = {
  app, store, graph, LiteGraph,
  async newTab () {
    const w = store.createTemporary(`Unsaved Workflow (${++tempCount})`)
    store.openWorkflow(w)
    return w.path
  },
  addNode (type, pos = [100, 100]) {
    const node = LiteGraph.createNode(type)
    node.pos = pos
    graph.add(node)
    store.activeWorkflow.changeTracker.checkState()
    return node.id
  },
  setWidget (nodeId, name, value) {
    const node = graph.getNodeById(nodeId)
    node.widgets.find(w => w.name === name).value = value
    store.activeWorkflow.changeTracker.checkState()
  },
  nodeTypes () { return graph.serialize().nodes.map(n => n.type) },
  switchTo (path) { store.openWorkflow(store.getWorkflowByPath(path)) },
}

export async function boot (extensionUrl) {
  await registerNodeTypes()
  const start = await (await fetch('/harness/start.json')).json()
  if (!start.graph) {
    // ComfyUI opens with a small default graph; build one from real node types
    for (const [i, type] of ['CheckpointLoaderSimple', 'EmptyLatentImage', 'SaveImage'].entries()) {
      const node = LiteGraph.createNode(type)
      node.pos = [50 + 300 * i, 100]
      graph.add(node)
    }
    start.graph = graph.serialize()
  }
  await app.loadGraphData(start.graph, true, true, null)
  const first = store.activeWorkflow
  // the first tab is a saved workflow, as after opening one from ComfyUI's workflow list
  first.path = `workflows/${start.name}.json`
  first.key = `${start.name}.json`
  first.filename = start.name
  first.isPersisted = true
  first.isTemporary = false
  await import(extensionUrl)
  for (const ext of extensions) await ext.init?.(app)
  for (const ext of extensions) await ext.setup?.(app)
  window.__harnessReady = true
}
