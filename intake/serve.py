"""Running the HTTP intake: its token, its socket, and a graceful stop on SIGTERM.

The token is what stands between the network and the start of a sanction case, so the service refuses to
start without one; `--insecure-dev` lifts that only on a loopback address, for a developer's machine.

aiohttp and the service are imported where the service starts, not at import: `starter.py` imports this
module for `ServeError` on every command, and `starter.py events` should not pay 0.2 s to load a web server.
"""

from __future__ import annotations

import asyncio
import ipaddress
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from runtime.settings import Settings

if TYPE_CHECKING:
    from intake.http import IntakeService

log = structlog.get_logger(__name__)

MIN_TOKEN_CHARS = 24
SHUTDOWN_SECONDS = 30.0
"""How long a stopping service lets requests in flight finish."""


class ServeError(Exception):
    """The service cannot start as configured; the message says what to change (never the token)."""


def intake_token(settings: Settings) -> str | None:
    """The bearer token: MISSED_MEETING_INTAKE_TOKEN, else the file MISSED_MEETING_INTAKE_TOKEN_FILE names."""
    if settings.intake_token is not None:
        token, source = settings.intake_token.get_secret_value().strip(), "MISSED_MEETING_INTAKE_TOKEN"
    elif settings.intake_token_file is not None:
        path, source = settings.intake_token_file, f"token file {settings.intake_token_file}"
        try:
            token = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ServeError(f"cannot read the intake {source}: {exc.strerror}") from None
    else:
        return None
    if len(token) < MIN_TOKEN_CHARS or any(c.isspace() for c in token):
        raise ServeError(f"the intake token from {source} must be at least {MIN_TOKEN_CHARS} characters, "
                         "without spaces (e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')")
    return token


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def checked_token(settings: Settings, host: str, insecure_dev: bool) -> str | None:
    """The token to require, or None for an unauthenticated developer service on loopback."""
    token = intake_token(settings)
    if token is not None:
        return token
    if not insecure_dev:
        raise ServeError("no intake token: set MISSED_MEETING_INTAKE_TOKEN_FILE (or MISSED_MEETING_INTAKE_TOKEN), "
                         "or pass --insecure-dev on a development machine")
    if not is_loopback(host):
        raise ServeError(f"--insecure-dev serves without a token, so only on a loopback address, not {host}")
    log.warning("intake serving WITHOUT a token (--insecure-dev): development only", host=host)
    return None


def rejects_path(settings: Settings) -> Path:
    from intake.http import REJECTS_FILE

    return settings.data_dir / REJECTS_FILE


@asynccontextmanager
async def running(service: IntakeService, host: str, port: int) -> AsyncIterator[str]:
    """Serve ``service`` on host:port (0: any free port) and yield its base URL; on exit, finish requests."""
    from aiohttp import web

    runner = web.AppRunner(service.app(), access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_SECONDS)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_host, bound_port = runner.addresses[0][:2]
        yield f"http://{bound_host}:{bound_port}" if ":" not in bound_host else f"http://[{bound_host}]:{bound_port}"
    finally:
        await runner.cleanup()


async def serve(settings: Settings, *, host: str | None = None, port: int | None = None,
                insecure_dev: bool = False) -> int:
    """`starter.py serve`: connect (lazily: /healthz says when Temporal is down), serve until SIGTERM/SIGINT."""
    from domain.policy import load_policy
    from intake.http import IntakeService
    from runtime.temporal import connect

    host = host if host is not None else settings.intake_host
    port = port if port is not None else settings.intake_port
    token = checked_token(settings, host, insecure_dev)
    client = await connect(settings.temporal_address, settings.temporal_namespace, lazy=True)
    service = IntakeService(client, load_policy(settings.policy_file), rejects_path=rejects_path(settings),
                            token=token, task_queue=settings.task_queue,
                            max_body_bytes=settings.intake_max_body_bytes)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with running(service, host, port) as url:
            log.info("intake listening", url=url, events=f"{url}/events", temporal=settings.temporal_address,
                     task_queue=settings.task_queue, rejects=str(rejects_path(settings)))
            await stop.wait()
            log.info("intake stopping: finishing requests in flight")
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    log.info("intake stopped")
    return 0
