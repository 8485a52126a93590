"""A local codec server, so the Temporal Web UI and CLI can show encrypted payloads to the operator.

Payloads are encrypted before they reach Temporal (runtime.codec), so without help the Web UI shows only
``binary/encrypted`` blobs, the ``timeline`` query included. The UI (``--ui-codec-endpoint``) and the CLI
(``--codec-endpoint``) can send payloads to a *remote codec* over HTTP: ``POST /decode`` and
``POST /encode`` with ``{"payloads": [...]}`` in protobuf JSON. This server answers them with the key ring
of this machine. The browser calls it directly, so it binds to localhost by default (in compose: the
container's address, published on the host's 127.0.0.1 only) and allows cross-origin requests from the Web
UI's origin only. It never logs a payload. ``GET /healthz`` and ``GET /metrics`` (Prometheus text: requests
by path and status, decode and encode calls) are for the orchestrator and monitoring.

Run: ``python -m runtime.codec_server [--host 127.0.0.1] [--port 8234] [--ui-origin http://localhost:8233]``;
the defaults come from MISSED_MEETING_CODEC_HOST, _PORT and _UI_ORIGINS (runtime/settings.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import structlog
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from runtime.codec import EncryptionCodec, PayloadDecryptionError
from runtime.keys import KeyConfigError, KeyRing, load_keys
from runtime.prometheus import CONTENT_TYPE, Registry
from runtime.settings import DEFAULT_UI_ORIGINS, Settings, SettingsError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8234
PATHS = ("/decode", "/encode", "/healthz", "/metrics")
"""Paths counted by name in the metrics; anything else is counted as ``other``."""
MAX_BODY = 8 * 1024 * 1024

log = structlog.stdlib.get_logger("codec_server")


def transform(body: bytes, step: Callable[[Payload], Payload]) -> bytes:
    """Apply ``step`` to every payload of a ``{"payloads": [...]}`` protobuf-JSON document."""
    payloads = json_format.Parse(body, Payloads())
    result = Payloads(payloads=[step(p) for p in payloads.payloads])
    return json_format.MessageToJson(result).encode("utf-8")


def make_handler(
    codec: EncryptionCodec, origins: Sequence[str], metrics: Registry | None = None
) -> type[BaseHTTPRequestHandler]:
    allowed = set(origins)
    registry = metrics if metrics is not None else Registry()
    requests = registry.counter(
        "missed_meeting_codec_requests_total", "Codec server requests, by path and status", ("path", "status"))
    calls = registry.counter("missed_meeting_codec_calls_total", "Decode and encode calls answered", ("operation",))

    class CodecHandler(BaseHTTPRequestHandler):
        server_version = "missed-meeting-codec"

        def _cors(self) -> None:
            origin = self.headers.get("Origin")
            if origin in allowed:
                self.send_header("Access-Control-Allow-Origin", origin)
                self.send_header("Vary", "Origin")
                self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
                self.send_header("Access-Control-Allow-Headers", "Content-Type, X-Namespace, Authorization")
                self.send_header("Access-Control-Allow-Credentials", "true")

        def _reply(self, status: HTTPStatus, body: bytes, content_type: str = "application/json") -> None:
            path = self.path.split("?", 1)[0].rstrip("/")
            requests.inc(path=path if path in PATHS else "other", status=str(int(status)))
            self.send_response(status)
            self._cors()
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status: HTTPStatus, message: str) -> None:
            self._reply(status, json.dumps({"error": message}).encode("utf-8"))

        def do_OPTIONS(self) -> None:
            self._reply(HTTPStatus.NO_CONTENT, b"", "text/plain")

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0].rstrip("/")
            if path in ("", "/health", "/healthz"):
                self._reply(HTTPStatus.OK, json.dumps({"ok": True, "key": codec.keys.current_id}).encode())
            elif path == "/metrics":
                self._reply(HTTPStatus.OK, registry.render().encode("utf-8"), CONTENT_TYPE)
            else:
                self._error(HTTPStatus.NOT_FOUND, "use POST /decode or POST /encode")

        def do_POST(self) -> None:
            path = self.path.split("?", 1)[0].rstrip("/")
            step = {"decode": codec.open, "encode": codec.seal}.get(path.rsplit("/", 1)[-1])
            if step is None:
                self._error(HTTPStatus.NOT_FOUND, "use POST /decode or POST /encode")
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length <= 0 or length > MAX_BODY:
                self._error(HTTPStatus.BAD_REQUEST, "a JSON body {\"payloads\": [...]} is required")
                return
            try:
                body = transform(self.rfile.read(length), step)
            except PayloadDecryptionError as exc:
                self._error(HTTPStatus.BAD_REQUEST, str(exc))
                return
            except json_format.ParseError:
                self._error(HTTPStatus.BAD_REQUEST, "body is not {\"payloads\": [...]} in protobuf JSON")
                return
            calls.inc(operation=path.rsplit("/", 1)[-1])
            self._reply(HTTPStatus.OK, body)

        def log_message(self, format: str, *args: Any) -> None:
            """Log method, path and status only: never bodies."""
            log.debug("codec request", request=self.requestline, status=args[1] if len(args) > 1 else None)

    return CodecHandler


def make_server(
    keys: KeyRing,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    origins: Sequence[str] = DEFAULT_UI_ORIGINS,
    metrics: Registry | None = None,
) -> ThreadingHTTPServer:
    return ThreadingHTTPServer((host, port), make_handler(EncryptionCodec(keys), origins, metrics))


def main(argv: Sequence[str] | None = None) -> int:
    """Serve /decode and /encode for the Web UI and CLI with this machine's payload keys."""
    from runtime.logging import configure_logging

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    parser = argparse.ArgumentParser(prog="python -m runtime.codec_server", description=main.__doc__)
    parser.add_argument("--host", default=settings.codec_host,
                        help="keep it on localhost (or a private network): it decrypts for anyone who can reach it")
    parser.add_argument("--port", type=int, default=settings.codec_port)
    parser.add_argument("--ui-origin", action="append", dest="origins",
                        help=f"Web UI origin allowed to call it (repeatable; default: {settings.codec_ui_origins})")
    args = parser.parse_args(argv)
    configure_logging(core_logs=False)
    try:
        keys = load_keys()
    except KeyConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    server = make_server(keys, args.host, args.port, args.origins or settings.codec_ui_origins)
    log.info("codec server listening", url=f"http://{args.host}:{args.port}", current_key=keys.current_id)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
