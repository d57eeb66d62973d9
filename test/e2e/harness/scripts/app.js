// ComfyUI's public shim: `export const app = window.comfyAPI.app.app`
export const app = window.comfyAPI.app.app
