// ComfyUI's public shim: `export const api = window.comfyAPI.api.api`
export const api = window.comfyAPI.api.api
