"""comfydock bridge: loads the comfydock panel into ComfyUI and tells it where the sidecar is.

No node classes. `comfydock run` starts the sidecar and sets COMFYDOCK_SIDECAR_URL and
COMFYDOCK_SIDECAR_TOKEN for ComfyUI; the panel reads them from GET /comfydock/bridge.
With your own ComfyUI: link this folder into custom_nodes/ as "comfydock", run
`comfydock serve --origin <ComfyUI URL>` and enter its URL and token in Settings > comfydock.
"""
import os
from urllib.parse import urlparse

NODE_CLASS_MAPPINGS = {}
NODE_DISPLAY_NAME_MAPPINGS = {}
WEB_DIRECTORY = "./js"
__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS", "WEB_DIRECTORY"]

try:
    from aiohttp import web
    import server

    @server.PromptServer.instance.routes.get("/comfydock/bridge")
    async def comfydock_bridge(request):
        # The answer carries the sidecar token: only the ComfyUI page itself may read it,
        # even when ComfyUI runs with --enable-cors-header.
        origin = request.headers.get("Origin")
        if origin and urlparse(origin).netloc != request.host:
            return web.json_response({"error": "cross-origin request refused"}, status=403)
        return web.json_response(
            {
                "url": os.environ.get("COMFYDOCK_SIDECAR_URL") or None,
                "token": os.environ.get("COMFYDOCK_SIDECAR_TOKEN") or None,
            },
            headers={"Cache-Control": "no-store"},
        )
except ImportError:  # imported outside ComfyUI (e.g. by a linter): nothing to register
    pass
