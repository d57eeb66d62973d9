/**
 * @module comfydock inside ComfyUI: the "Environment" sidebar tab, the "Export environment"
 * command (top menu + keybinding) and the settings for a sidecar URL override.
 */
import { SETTING_TOKEN, SETTING_URL } from './bridge'
import { Controller } from './controller'
import { addSidebarTab, onGraphChanged, onTabsChanged, registerExtension } from './host'
import { Panel } from './panel/panel'
import { ICON_CLASS, injectStyles } from './styles'

const EXPORT_COMMAND = 'Comfydock.ExportEnvironment'
const controller = new Controller()
const panel = new Panel(controller)

function registerSidebar (): void {
  const sidebar = addSidebarTab({
    id: 'comfydock',
    title: 'Environment',
    icon: ICON_CLASS,
    tooltip: 'comfydock environment',
    render: el => panel.mount(el),
    destroy: () => panel.unmount(),
  }, () => controller.badge())
  if (sidebar) controller.subscribe(() => sidebar.setBadge(controller.badge()))
}

/** Keeps the panel current as the user edits, opens, closes or switches tabs. */
function watchWorkflows (): void {
  onGraphChanged(() => controller.scheduleRefresh())
  onTabsChanged(() => controller.scheduleRefresh(200))
}

let started = false
// settings fire onChange while loading, before setup(); connecting then would only be torn down again
const reconnect = (): void => { if (started) void controller.connect() }

registerExtension({
  name: 'comfydock.environment',
  commands: [{
    id: EXPORT_COMMAND,
    label: 'Export environment',
    icon: 'pi pi-download',
    run: () => controller.exportEnvironment(),
    inFileMenu: true,
    keybinding: { key: 'e', ctrl: true, alt: true },
  }],
  settings: [
    {
      id: SETTING_URL,
      name: 'Sidecar URL (leave empty to use the one `comfydock run` started)',
      defaultValue: '',
      category: ['comfydock', 'Sidecar', 'URL'],
      onChange: reconnect,
    },
    {
      id: SETTING_TOKEN,
      name: 'Sidecar token (printed by `comfydock serve`)',
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
