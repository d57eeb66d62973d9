/** @module Panel styles, built on ComfyUI's own CSS variables so every theme applies. */

/**
 * The panel's own icon (an environment's history: commits on a branch), drawn as a CSS mask in the
 * current text colour, so every theme and every frontend's icon size apply. Not a PrimeIcons glyph:
 * `pi-box` is the Model Library's, and older frontends ship older PrimeIcons. ComfyUI's strict CSP
 * allows `data:` images and inline styles.
 */
const ICON_SVG = "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24' fill='none' stroke='black' stroke-width='2.2' stroke-linecap='round'>" +
  "<circle cx='6' cy='5' r='2.6'/><circle cx='6' cy='19' r='2.6'/><circle cx='18' cy='7' r='2.6'/>" +
  "<path d='M6 7.6v8.8M18 9.6c0 4.4-12 2.4-12 6.8'/></svg>"
export const ICON_CLASS = 'cfd-icon-env'

const CSS = `
.${ICON_CLASS} { display: inline-block; width: 1em; height: 1em; min-width: 16px; min-height: 16px; vertical-align: middle; background-color: currentColor;
  -webkit-mask: url("data:image/svg+xml,${encodeURIComponent(ICON_SVG)}") center / contain no-repeat; mask: url("data:image/svg+xml,${encodeURIComponent(ICON_SVG)}") center / contain no-repeat; }
.cfd-panel { padding: 8px 10px; font-size: 13px; color: var(--fg-color); display: flex; flex-direction: column; gap: 10px; }
.cfd-panel h3 { margin: 0; font-size: 12px; text-transform: uppercase; letter-spacing: .05em; color: var(--descrip-text, var(--fg-color)); opacity: .8; }
.cfd-section { display: flex; flex-direction: column; gap: 4px; border-top: 1px solid var(--border-color); padding-top: 8px; }
.cfd-section[hidden] { display: none; }
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
.cfd-reason { flex-basis: 100%; font-family: monospace; font-size: 11px; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 6em; overflow: auto; opacity: .85; }
.cfd-panel button { background: var(--comfy-menu-bg); color: var(--fg-color); border: 1px solid var(--border-color); border-radius: 4px; padding: 2px 8px; cursor: pointer; font-size: 12px; display: inline-flex; gap: 4px; align-items: center; }
.cfd-panel button:hover:not(:disabled) { background: var(--comfy-input-bg); }
.cfd-panel button:disabled { opacity: .5; cursor: default; }
.cfd-panel textarea, .cfd-panel select { width: 100%; box-sizing: border-box; background: var(--comfy-input-bg); color: var(--input-text, var(--fg-color)); border: 1px solid var(--border-color); border-radius: 4px; padding: 4px; font: inherit; }
.cfd-log { display: flex; flex-direction: column; gap: 2px; font-size: 12px; padding: 3px 0; border-bottom: 1px solid var(--border-color); }
.cfd-log-subject { overflow-wrap: anywhere; display: -webkit-box; -webkit-line-clamp: 3; -webkit-box-orient: vertical; overflow: hidden; }
.cfd-log-meta { display: flex; align-items: center; gap: 6px; opacity: .85; }
.cfd-log-meta code, .cfd-log-meta .cfd-date { opacity: .7; }
.cfd-log-meta .cfd-date { flex: 1; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.cfd-op { font-size: 12px; display: flex; flex-direction: column; gap: 2px; }
.cfd-op progress { width: 100%; height: 6px; }
.cfd-job-label, .cfd-grow { flex: 1; overflow-wrap: anywhere; }
`

export function injectStyles (): void {
  if (document.getElementById('comfydock-styles')) return
  const style = document.createElement('style')
  style.id = 'comfydock-styles'
  style.textContent = CSS
  document.head.appendChild(style)
}
