"""comfydock bridge: loads the comfydock panel into ComfyUI and carries its traffic to the sidecar.

No node classes. `comfydock run` starts the sidecar and sets COMFYDOCK_SIDECAR_URL and
COMFYDOCK_SIDECAR_TOKEN for ComfyUI. Routes (each also under /api, as ComfyUI adds it):

- GET /comfydock/bridge: the token, and the custom node packs ComfyUI failed to import (with
  the error from its log), which the panel shows as "failed to load".
- GET /comfydock/sidecar/ws: the panel's WebSocket, carried to the sidecar's /ws.
- GET /comfydock/sidecar/downloads/<file>: an export bundle, carried from the sidecar.

The panel thus talks to ComfyUI's own origin only, which a strict Content-Security-Policy
(`connect-src 'self'`, ComfyUI >= v0.3.72 with --disable-api-nodes) allows. The token is still
required on every carried request, and the sidecar still checks it and the Origin.

Who is answered: a request whose Host names this machine's loopback (localhost, 127.x, ::1) or the
address ComfyUI was told to listen on, with an Origin (if any) equal to that Host, from a client on
loopback. A DNS-rebinding page (Host = its own name) and other machines on the network are refused,
unless the user named the address they use: `comfydock run --panel-host NAME` (COMFYDOCK_PANEL_HOSTS).
With your own ComfyUI: link this folder into custom_nodes/ as "comfydock", run
`comfydock serve --origin <ComfyUI URL>` and enter its URL and token in Settings > comfydock.
"""
import asyncio
import ipaddress
import logging
import os
import re
from urllib.parse import quote, urlencode, urlsplit

NODE_CLASS_MAPPINGS = {}
NODE_DISPLAY_NAME_MAPPINGS = {}
WEB_DIRECTORY = "./js"
__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS", "WEB_DIRECTORY"]

SIDECAR_URL = (os.environ.get("COMFYDOCK_SIDECAR_URL") or "").rstrip("/") or None
SIDECAR_TOKEN = os.environ.get("COMFYDOCK_SIDECAR_TOKEN") or None
# Names other machines reach this ComfyUI by; naming any is the opt-in for clients not on loopback.
PANEL_HOSTS = {h.strip().lower().strip("[]") for h in (os.environ.get("COMFYDOCK_PANEL_HOSTS") or "").split(",") if h.strip()}
# The sidecar's own frame limit (sidecar/server/websocket.ts); aiohttp's default is 4 MiB.
MAX_FRAME = 64 * 1024 * 1024
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


# ---- custom node packs ComfyUI did not import ----
# ComfyUI logs a traceback, then "Cannot import <path> module for custom nodes: <error>", and keeps no
# list of its own. Packs imported after this one are seen by a log handler; those before it are read
# back from ComfyUI's log buffer (app.logger), where each record is one write.
_CANNOT_IMPORT = re.compile(r"Cannot import (.+?) module for custom nodes: (.*)", re.S)
_load_failures = {}  # folder -> reason


def _note_failure(message, previous):
    m = _CANNOT_IMPORT.match(message.strip())
    if not m:
        return
    folder = os.path.basename(m.group(1).rstrip("/\\"))
    error = m.group(2).strip()
    trace = previous.strip() if previous.strip().startswith("Traceback") else ""
    # the traceback's last line is usually the error itself
    _load_failures[folder] = trace if trace.endswith(error) else ((trace + "\n") if trace else "") + error


class _ImportFailures(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self._previous = ""

    def emit(self, record):
        try:
            message = record.getMessage()
            _note_failure(message, self._previous)
            self._previous = message
        except Exception:  # a log handler never breaks ComfyUI's logging
            pass


logging.getLogger().addHandler(_ImportFailures())


def load_failures():
    """[{folder, reason}] for every pack ComfyUI failed to import so far (reasons cut to 4000 chars)."""
    try:
        from app.logger import get_logs
        previous = ""
        for entry in list(get_logs() or []):
            text = entry.get("m", "") if isinstance(entry, dict) else ""
            if isinstance(text, str):
                _note_failure(text, previous)
                previous = text
    except Exception:  # an older ComfyUI without the log buffer: the handler's records only
        pass
    return [{"folder": f[:255], "reason": r[-4000:]} for f, r in sorted(_load_failures.items()) if f]


def _sidecar_target():
    """The sidecar's address, if it is one this bridge may carry traffic to: http on loopback."""
    if not SIDECAR_URL:
        return None
    parts = urlsplit(SIDECAR_URL)
    on_loopback = parts.hostname == "localhost" or _is_loopback_address(parts.hostname or "")
    if parts.scheme != "http" or not on_loopback:
        return None
    return SIDECAR_URL


try:
    import aiohttp
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
        return web.json_response({"url": SIDECAR_URL, "token": SIDECAR_TOKEN, "loadFailures": load_failures()}, headers={"Cache-Control": "no-store"})

    async def _pump(source, sink):
        async for msg in source:
            if msg.type == aiohttp.WSMsgType.TEXT:
                await sink.send_str(msg.data)
            elif msg.type == aiohttp.WSMsgType.BINARY:
                await sink.send_bytes(msg.data)
            else:
                break

    def _carry(request):
        """(sidecar URL, None) when the request may be carried to the sidecar, else (None, the answer)."""
        reason = refusal(request)
        if reason:
            return None, _refused(reason)
        target = _sidecar_target()
        if not target:
            return None, web.json_response({"error": "ComfyUI was not started by `comfydock run`, so no sidecar is known"}, status=404)
        return target, None

    @routes.get("/comfydock/sidecar/ws")
    async def comfydock_sidecar_ws(request):
        target, answer = _carry(request)
        if answer is not None:
            return answer
        # The page's token and Origin go on unchanged: the sidecar checks both, as for a direct connection.
        headers = {"Origin": request.headers["Origin"]} if "Origin" in request.headers else {}
        url = "ws" + target[4:] + "/ws?" + urlencode({"token": request.query.get("token", "")})
        session = aiohttp.ClientSession()
        try:
            upstream = await session.ws_connect(url, headers=headers, max_msg_size=MAX_FRAME, autoclose=True, autoping=True)
        except aiohttp.WSServerHandshakeError as err:
            await session.close()
            return web.json_response({"error": "the sidecar refused the connection (HTTP %d)" % err.status}, status=err.status)
        except (aiohttp.ClientError, OSError) as err:
            await session.close()
            return web.json_response({"error": "cannot reach the sidecar: %s" % err}, status=502)
        page = web.WebSocketResponse(max_msg_size=MAX_FRAME)
        await page.prepare(request)
        try:
            pumps = [asyncio.ensure_future(_pump(page, upstream)), asyncio.ensure_future(_pump(upstream, page))]
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            for p in pumps:
                p.cancel()
        finally:
            await upstream.close()
            await page.close()
            await session.close()
        return page

    @routes.get("/comfydock/sidecar/downloads/{file}")
    async def comfydock_sidecar_download(request):
        target, answer = _carry(request)
        if answer is not None:
            return answer
        name = request.match_info["file"]
        headers = {"Authorization": "Bearer " + request.query.get("token", "")}
        if "Origin" in request.headers:
            headers["Origin"] = request.headers["Origin"]
        async with aiohttp.ClientSession() as session:
            async with session.get(target + "/downloads/" + quote(name, safe=""), headers=headers) as up:
                keep = ("Content-Type", "Content-Length", "Content-Disposition")
                out = web.StreamResponse(status=up.status, headers={k: up.headers[k] for k in keep if k in up.headers})
                await out.prepare(request)
                async for chunk in up.content.iter_chunked(1 << 16):
                    await out.write(chunk)
                await out.write_eof()
                return out
except ImportError:  # imported outside ComfyUI (e.g. by a linter): nothing to register
    pass
