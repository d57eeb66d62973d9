/** @module Panel styles, built on ComfyUI's own CSS variables so every theme applies. */
const CSS = `
.cfd-panel { padding: 8px 10px; font-size: 13px; color: var(--fg-color); display: flex; flex-direction: column; gap: 10px; }
.cfd-panel h3 { margin: 0; font-size: 12px; text-transform: uppercase; letter-spacing: .05em; color: var(--descrip-text, var(--fg-color)); opacity: .8; }
.cfd-section { display: flex; flex-direction: column; gap: 4px; border-top: 1px solid var(--border-color); padding-top: 8px; }
.cfd-head { display: flex; align-items: center; gap: 6px; }
.cfd-env { font-size: 15px; font-weight: 600; }
.cfd-muted { opacity: .7; font-size: 12px; }
.cfd-conn { display: inline-flex; align-items: center; gap: 4px; font-size: 12px; padding: 1px 6px; border-radius: 8px; background: var(--comfy-input-bg); }
.cfd-conn.open { color: var(--p-green-400, #4ade80); }
.cfd-conn.offline, .cfd-conn.unconfigured { color: var(--error-text, #f87171); }
.cfd-conn.connecting { color: var(--p-yellow-400, #facc15); }
.cfd-banner { padding: 6px 8px; border-radius: 4px; background: var(--comfy-input-bg); border-left: 3px solid var(--error-text, #f87171); font-size: 12px; }
.cfd-tab { display: flex; flex-direction: column; gap: 2px; padding: 4px 6px; border-radius: 4px; background: var(--comfy-input-bg); }
.cfd-tab-row { display: flex; align-items: center; gap: 6px; }
.cfd-tab-name { flex: 1; overflow-wrap: anywhere; }
.cfd-tags { display: flex; flex-wrap: wrap; gap: 4px; padding-left: 22px; }
.cfd-tag { font-size: 11px; padding: 0 5px; border-radius: 6px; border: 1px solid var(--border-color); white-space: nowrap; }
.cfd-tag.warn { color: var(--p-yellow-400, #facc15); }
.cfd-tag.ok { color: var(--p-green-400, #4ade80); }
.cfd-missing { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 6px; font-size: 12px; padding-left: 22px; }
.cfd-missing span { flex: 1 1 120px; overflow-wrap: anywhere; }
.cfd-panel button { background: var(--comfy-menu-bg); color: var(--fg-color); border: 1px solid var(--border-color); border-radius: 4px; padding: 2px 8px; cursor: pointer; font-size: 12px; display: inline-flex; gap: 4px; align-items: center; }
.cfd-panel button:hover:not(:disabled) { background: var(--comfy-input-bg); }
.cfd-panel button:disabled { opacity: .5; cursor: default; }
.cfd-panel textarea, .cfd-panel select { width: 100%; box-sizing: border-box; background: var(--comfy-input-bg); color: var(--input-text, var(--fg-color)); border: 1px solid var(--border-color); border-radius: 4px; padding: 4px; font: inherit; }
.cfd-log { display: flex; align-items: center; gap: 6px; font-size: 12px; }
.cfd-log code { opacity: .7; }
.cfd-log span { flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.cfd-op { font-size: 12px; display: flex; flex-direction: column; gap: 2px; }
.cfd-op progress { width: 100%; height: 6px; }
`

export function injectStyles (): void {
  if (document.getElementById('comfydock-styles')) return
  const style = document.createElement('style')
  style.id = 'comfydock-styles'
  style.textContent = CSS
  document.head.appendChild(style)
}
