"""The Temporal Web UI shows a case decoded, checked in a real browser (issue 3).

The local system as `scripts/local-system` starts it, on free ports in a temporary directory: the codec server
(allowing the Web UI's origin), a Temporal dev server on a SQLite file with its Web UI pointed at the codec
server (``--ui-codec-endpoint``), and `python worker.py`. One case is started through the intake's gateway on
the case clock of a Wednesday morning, so its hearing letter goes out at once whatever the hour. Then Debian's
Chromium, headless and driven by Playwright (never a downloaded browser), opens the case's page and the test
reads what an operator sees: the decoded input on the Timeline tab, and on the User Metadata tab the static
summary (case id, ground, readiness), the static details and the current details (stage, answer deadline, what
the case waits for). The raw ``binary/encrypted`` payloads must not be what is shown, the UI must have called the
codec server, and the Markdown the UI sends back to its server for rendering (``/render?content=...``) must hold
no personal data. The screenshot of the User Metadata tab goes to ``$MISSED_MEETING_UI_SCREENSHOT`` when set
(``scripts/ui-check`` sets it to ``docs/web-ui-case.png``).

Skipped only when ``/usr/bin/chromium`` is missing (``apt-get install chromium``; CI installs it in .ci/run).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import aiohttp
import pytest
from playwright.async_api import ViewportSize
from temporalio.client import Client

from domain.events import MeetingMissed, parse_event
from domain.policy import load_policy
from intake.gateway import CaseGateway
from runtime.keys import KeyRing
from runtime.temporal import data_converter
from tests.processes import (
    CASE_CLOCK_ABSENCE,
    PATIENCE,
    CaseClock,
    CodecService,
    DevServer,
    WorkerService,
    child_env,
    free_port,
    system_env,
)
from workflows.api import Timeline, workflow_id_for

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOT_ENV = "MISSED_MEETING_UI_SCREENSHOT"
VIEWPORT: ViewportSize = {"width": 1400, "height": 1000}
LOCAL_URL = re.compile(r"^(https?|wss?)://(127\.0\.0\.1|localhost)(:\d+)?/")

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"Debian's chromium is not installed ({CHROMIUM} missing): apt-get install chromium (CI does, in .ci/run)",
)

MEETING_ID = "M-2026-0042"
CASE_ID = "K-2026-0042"
CITIZEN = {"cpr": "0407868123", "name": "Vibeke Testrup Hansen", "address": "Prøvevej 9, 2. th., 2300 København S",
           "readiness": "jobparat", "digital_post": "registered", "nemsms": True, "phone": "+45 61 72 83 94",
           "email": "vibeke.testrup@example.dk", "guidance_given_on": "2025-11-03", "representatives": []}
"""Made up. Personal data the page may show decoded (the input), but the Markdown sent for rendering may not."""


@dataclass
class UiSystem:
    server: DevServer
    codec: CodecService
    worker: WorkerService
    keys: KeyRing
    task_queue: str


@pytest.fixture
async def ui_system(tmp_path: Path) -> AsyncIterator[UiSystem]:
    keys = KeyRing.generate()
    ui_port, task_queue = free_port(), f"ui-{uuid.uuid4().hex[:8]}"
    origins = [f"http://127.0.0.1:{ui_port}", f"http://localhost:{ui_port}"]
    codec = CodecService(tmp_path, child_env(MISSED_MEETING_PAYLOAD_KEYS=keys.to_spec(), PYTHONUNBUFFERED="1",
                                             MISSED_MEETING_DATA_DIR=str(tmp_path / "data")), origins)
    server = DevServer(tmp_path, ui_port=ui_port, codec_endpoint=codec.url)
    worker = WorkerService(tmp_path, system_env(server, tmp_path / "data", keys.to_spec(), task_queue))
    try:
        await asyncio.gather(codec.start_and_wait(), server.start_and_wait())
        await worker.start_and_wait()
        yield UiSystem(server, codec, worker, keys, task_queue)
    finally:
        await worker.astop()
        await codec.astop()
        await server.astop()


async def start_case(system: UiSystem) -> str:
    """One case through the intake's gateway, on the case clock; returns its workflow id once its hearing
    letter is out and its deadline set (what the current details then show)."""
    clock = CaseClock()
    client = await Client.connect(system.server.address, data_converter=data_converter(system.keys),
                                  interceptors=[clock.interceptor()])
    event = parse_event(json.dumps({
        "event_id": "ui-check-1", "type": "meeting_missed", "occurred_at": CASE_CLOCK_ABSENCE.isoformat(),
        "meeting_id": MEETING_ID, "case_id": CASE_ID, "ground": "jobsamtale", "citizen": CITIZEN,
    }))
    assert isinstance(event, MeetingMissed)
    outcome = await CaseGateway(client, load_policy(), task_queue=system.task_queue).start_case(event)
    assert outcome.kind == "started", outcome
    workflow_id = workflow_id_for(MEETING_ID)
    handle = client.get_workflow_handle(workflow_id)
    async with asyncio.timeout(PATIENCE):
        while True:
            journal = await handle.query("timeline", result_type=Timeline)
            if any(step["step"] == "deadline_set" for step in journal.steps):
                return workflow_id
            await asyncio.sleep(0.3)


async def decode_calls(codec: CodecService) -> int:
    async with aiohttp.ClientSession() as session, session.get(f"{codec.url}/metrics") as response:
        text = await response.text()
    found = re.search(r'^missed_meeting_codec_calls_total\{operation="decode"\} (\d+)', text, re.M)
    return int(found[1]) if found else 0


async def test_the_web_ui_shows_a_case_decoded(ui_system: UiSystem, tmp_path: Path) -> None:
    from playwright.async_api import Route, async_playwright

    workflow_id = await start_case(ui_system)
    decoded_before = await decode_calls(ui_system.codec)
    rendered: list[str] = []  # the Markdown the UI sends to its server to render, as the URLs carry it
    blocked: list[str] = []

    async def local_only(route: Route) -> None:  # nothing leaves the machine (CI has no internet anyway)
        if LOCAL_URL.match(route.request.url):
            await route.continue_()
        else:
            blocked.append(route.request.url)
            await route.abort()

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport=VIEWPORT)
            await context.route("**/*", local_only)
            page = await context.new_page()
            page.on("request", lambda r: rendered.append(unquote(r.url)) if "/render?" in r.url else None)
            page.set_default_timeout(PATIENCE * 1000)
            await page.goto(f"{ui_system.server.ui_url}/namespaces/default/workflows/{workflow_id}")

            # the Timeline tab: the workflow's input, decoded through the codec server
            await page.get_by_text(f'"case_id": "{CASE_ID}"').first.wait_for()
            timeline_text = await page.inner_text("body")

            # the User Metadata tab: summary, details and current details, each Markdown rendered in a frame
            await page.get_by_role("tab", name="User Metadata").click()
            wanted = [f"Case {CASE_ID} · jobsamtale · jobparat", f"Meeting: {MEETING_ID}", "Stage: awaiting_answer",
                      "Answer deadline: 2026-03-12", "Waiting for:"]
            metadata_text = await until_shown(page, wanted)
            screenshot = tmp_path / "web-ui-case.png"
            await page.screenshot(path=str(screenshot))
        finally:
            await browser.close()

    shown = timeline_text + "\n" + metadata_text
    assert "binary/encrypted" not in shown and "YmluYXJ5L2VuY3J5cHRlZA" not in shown, "raw ciphertext shown"
    assert "Current Details" in metadata_text and "Summary" in metadata_text
    assert await decode_calls(ui_system.codec) > decoded_before, "the Web UI decoded through the codec server"
    assert any(f"Case {CASE_ID}" in url for url in rendered), "the summary went through the UI's Markdown renderer"
    personal = [CITIZEN["cpr"], str(CITIZEN["cpr"])[:6], CITIZEN["name"], CITIZEN["address"], CITIZEN["email"],
                CITIZEN["phone"], "Testrup", "Prøvevej"]
    assert not [url for url in rendered if any(str(p) in url for p in personal)], \
        "the Markdown the Web UI sends to its server for rendering holds personal data"
    assert screenshot.stat().st_size > 10_000
    target = os.environ.get(SCREENSHOT_ENV)
    if target:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(screenshot, target)


async def until_shown(page: Any, wanted: list[str]) -> str:
    """The page's text with its frames' (the rendered Markdown), once every ``wanted`` text is in it."""
    async with asyncio.timeout(PATIENCE):
        while True:
            parts = [await page.inner_text("body")]
            for frame in page.frames:
                if frame is not page.main_frame:
                    parts.append(await _frame_text(frame))
            text = re.sub(r"[ \t]+", " ", "\n".join(parts))
            if all(w in text for w in wanted):
                return text
            await asyncio.sleep(0.5)


async def _frame_text(frame: Any) -> str:
    try:
        return str(await frame.inner_text("body", timeout=2000))
    except Exception:  # a frame still loading or gone: read it again next round
        return ""
