// Placeholder entry: the extension is built here (see issue "Sidecar server and ComfyUI extension").
export {}
