/** @module What is on disk in ComfyUI/custom_nodes: pack folders, disabled ones set apart. */
import { readdir } from 'node:fs/promises'

/** Files and folders ComfyUI ships or makes itself; they are never packs. */
const NOT_PACKS = new Set(['__pycache__', 'example_node.py.example', 'websocket_image_save.py'])

export interface CustomNodesScan {
  /** Enabled pack folder names. */
  enabled: string[]
  /** Folder names of `NAME.disabled`, without the suffix. */
  disabled: string[]
}

export async function scanCustomNodes (customNodesDir: string): Promise<CustomNodesScan> {
  let entries: import('node:fs').Dirent[] = []
  try {
    entries = await readdir(customNodesDir, { withFileTypes: true })
  } catch { /* no custom_nodes folder yet */ }
  const enabled: string[] = []
  const disabled: string[] = []
  for (const e of entries) {
    if (!e.isDirectory() || NOT_PACKS.has(e.name) || e.name.startsWith('.')) continue
    if (e.name.endsWith('.disabled')) disabled.push(e.name.slice(0, -'.disabled'.length))
    else enabled.push(e.name)
  }
  return { enabled: enabled.sort(), disabled: disabled.sort() }
}
