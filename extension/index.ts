/**
 * @module comfydock inside ComfyUI: the "Environment" sidebar tab, the "Export environment"
 * command (top menu + keybinding) and the settings for a sidecar URL override.
 */
import { SETTING_TOKEN, SETTING_URL } from './bridge'
import { Controller } from './controller'
import { api, app, type SidebarTab } from './host'
import { Panel } from './panel/panel'
import { injectStyles } from './styles'

const EXPORT_COMMAND = 'Comfydock.ExportEnvironment'
const controller = new Controller()
const panel = new Panel(controller)

function registerSidebar (): void {
  const em = app.extensionManager
  const tab: SidebarTab = {
    id: 'comfydock',
    title: 'Environment',
    icon: 'pi pi-box',
    tooltip: 'comfydock environment',
    iconBadge: () => controller.badge(),
    type: 'custom',
    render: el => panel.mount(el),
    destroy: () => panel.unmount(),
  }
  const register = em?.sidebarTab?.registerSidebarTab?.bind(em.sidebarTab) ?? em?.registerSidebarTab?.bind(em)
  if (!register) return
  register(tab)
  // The frontend keeps registered tabs in a reactive (Vue) store and calls a badge function only when
  // it re-renders; writing the value through the store's copy makes the badge follow our state.
  const stored = (): SidebarTab | undefined => (em?.getSidebarTabs?.() ?? em?.sidebarTab?.sidebarTabs ?? []).find(t => t.id === tab.id)
  controller.subscribe(() => {
    const live = stored()
    const badge = controller.badge()
    if (live && live.iconBadge !== badge) live.iconBadge = badge
  })
}

/** Keeps the panel current as the user edits or switches tabs. */
function watchWorkflows (): void {
  api.addEventListener('graphChanged', () => controller.scheduleRefresh())
  const store = app.extensionManager?.workflow
  // Pinia internals: present in every supported frontend, but guarded since they are not public API
  if (typeof store?.$onAction === 'function') {
    store.$onAction(({ name, after }) => {
      if (/^(openWorkflow|closeWorkflow|createTemporary|saveWorkflow|renameWorkflow)$/.test(name)) after(() => controller.scheduleRefresh(200))
    })
  }
}

let started = false
// settings fire onChange while loading, before setup(); connecting then would only be torn down again
const reconnect = (): void => { if (started) void controller.connect() }

app.registerExtension({
  name: 'comfydock.environment',
  commands: [{
    id: EXPORT_COMMAND,
    label: 'Export environment',
    icon: 'pi pi-download',
    function: () => controller.exportEnvironment(),
  }],
  menuCommands: [{ path: ['Workflow'], commands: [EXPORT_COMMAND] }],
  keybindings: [{ combo: { key: 'e', ctrl: true, alt: true }, commandId: EXPORT_COMMAND }],
  settings: [
    {
      id: SETTING_URL,
      name: 'Sidecar URL (leave empty to use the one `comfydock run` started)',
      type: 'text',
      defaultValue: '',
      category: ['comfydock', 'Sidecar', 'URL'],
      onChange: reconnect,
    },
    {
      id: SETTING_TOKEN,
      name: 'Sidecar token (printed by `comfydock serve`)',
      type: 'text',
      defaultValue: '',
      category: ['comfydock', 'Sidecar', 'Token'],
      onChange: reconnect,
    },
  ],
  async setup () {
    injectStyles()
    if (!controller.state.support.ok) {
      controller.toast('warn', 'comfydock: limited support', `This frontend lacks ${controller.state.support.missing.join(', ')}.`)
    }
    registerSidebar()
    watchWorkflows()
    started = true
    await controller.connect()
  },
})

// for drivers and debugging: the live state, never an API
;(globalThis as { __comfydock?: unknown }).__comfydock = { controller }

export {}
