"""comfydock bridge: loads the comfydock panel into ComfyUI and tells it where the sidecar is.

No node classes. `comfydock run` starts the sidecar and sets COMFYDOCK_SIDECAR_URL and
COMFYDOCK_SIDECAR_TOKEN for ComfyUI; the panel reads them from GET /comfydock/bridge.

Who is answered: a request whose Host names this machine's loopback (localhost, 127.x, ::1) or the
address ComfyUI was told to listen on, with an Origin (if any) equal to that Host, from a client on
loopback. A DNS-rebinding page (Host = its own name) and other machines on the network are refused,
unless the user named the address they use: `comfydock run --panel-host NAME` (COMFYDOCK_PANEL_HOSTS).
With your own ComfyUI: link this folder into custom_nodes/ as "comfydock", run
`comfydock serve --origin <ComfyUI URL>` and enter its URL and token in Settings > comfydock.
"""
import ipaddress
import os
from urllib.parse import urlsplit

NODE_CLASS_MAPPINGS = {}
NODE_DISPLAY_NAME_MAPPINGS = {}
WEB_DIRECTORY = "./js"
__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS", "WEB_DIRECTORY"]

SIDECAR_URL = (os.environ.get("COMFYDOCK_SIDECAR_URL") or "").rstrip("/") or None
SIDECAR_TOKEN = os.environ.get("COMFYDOCK_SIDECAR_TOKEN") or None
# Names other machines reach this ComfyUI by; naming any is the opt-in for clients not on loopback.
PANEL_HOSTS = {h.strip().lower().strip("[]") for h in (os.environ.get("COMFYDOCK_PANEL_HOSTS") or "").split(",") if h.strip()}
REFUSAL_HINT = "open ComfyUI at http://127.0.0.1:<port>/ on this machine, or start it with `comfydock run --panel-host <name>`"

# ---- who may ask ----

def _is_loopback_address(value):
    try:
        ip = ipaddress.ip_address(value.split("%")[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or bool(mapped and mapped.is_loopback)


def _listen_hosts():
    """The addresses ComfyUI was told to serve (`--listen`), wildcards excepted: they name no host."""
    try:
        from comfy.cli_args import args
        listen = args.listen or ""
    except Exception:
        listen = ""
    hosts = {h.strip().lower().strip("[]") for h in listen.split(",") if h.strip()}
    return hosts - {"0.0.0.0", "::"}


def _host_allowed(hostname):
    if not hostname:
        return False
    name = hostname.lower().rstrip(".")
    # *.localhost never leaves the machine (browsers resolve it to loopback themselves)
    if name == "localhost" or name.endswith(".localhost") or _is_loopback_address(name):
        return True
    return name in _listen_hosts() or name in PANEL_HOSTS


def _hostname(netloc):
    try:
        return urlsplit("//" + netloc).hostname
    except ValueError:  # a malformed Host (e.g. an unclosed "[") names no host
        return None


def refusal(request):
    """None when the request may be answered, else why not (a 403 body)."""
    if not PANEL_HOSTS and not _is_loopback_address(request.remote or ""):
        return "comfydock answers only on this machine; " + REFUSAL_HINT
    host = request.headers.get("Host", "")
    if not _host_allowed(_hostname(host)):
        return "comfydock does not answer for host \"%s\"; %s" % (host[:100], REFUSAL_HINT)
    origin = request.headers.get("Origin")
    if origin is not None and origin.split("://", 1)[-1].rstrip("/").lower() != host.lower():
        return "cross-origin request refused"
    return None


try:
    from aiohttp import web
    import server

    routes = server.PromptServer.instance.routes

    def _refused(reason):
        return web.json_response({"error": reason}, status=403, headers={"Cache-Control": "no-store"})

    @routes.get("/comfydock/bridge")
    async def comfydock_bridge(request):
        # The answer carries the sidecar token: only the ComfyUI page itself may read it,
        # even when ComfyUI runs with --enable-cors-header.
        reason = refusal(request)
        if reason:
            return _refused(reason)
        return web.json_response({"url": SIDECAR_URL, "token": SIDECAR_TOKEN}, headers={"Cache-Control": "no-store"})
except ImportError:  # imported outside ComfyUI (e.g. by a linter): nothing to register
    pass
