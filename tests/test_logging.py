"""The process log: JSON lines, and no CPR number in them whichever way one was passed in."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import structlog
from temporalio import activity
from temporalio.testing import ActivityEnvironment

from runtime.logging import (
    REDACTED,
    activity_logger,
    bind_activity_context,
    configure_logging,
    redact,
    temporal_context,
)

CPR = "0101901234"
CPR_DASHED = "010190-1234"


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    """Configure logging into a buffer; put the root logger and structlog back afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    stream = io.StringIO()
    configure_logging("DEBUG", stream=stream)
    yield stream
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved_handlers:
        root.addHandler(handler)
    root.setLevel(saved_level)
    logging.captureWarnings(False)
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    text = stream.getvalue()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def test_structlog_line_is_json_with_cpr_redacted_in_message_and_fields(log: io.StringIO) -> None:
    structlog.get_logger("cases").info(
        f"letter sent to {CPR}", cpr=CPR, citizen={"id": CPR_DASHED, "phones": ["x", f"cpr:{CPR}"]}, count=3
    )
    [line] = lines(log)
    assert CPR not in json.dumps(line) and "010190" not in json.dumps(line)
    assert line["event"] == f"letter sent to {REDACTED}"
    assert line["cpr"] == REDACTED
    assert line["citizen"] == {"id": REDACTED, "phones": ["x", f"cpr:{REDACTED}"]}
    assert line["count"] == 3
    assert line["level"] == "info"
    assert line["logger"] == "cases"
    assert datetime.fromisoformat(line["timestamp"]).utcoffset() is not None


def test_stdlib_line_and_its_traceback_are_redacted_json(log: io.StringIO) -> None:
    library = logging.getLogger("some.library")
    library.warning("lookup of %s failed", CPR)
    try:
        raise ValueError(f"no citizen {CPR_DASHED}")
    except ValueError:
        library.exception("crashed")
    first, second = lines(log)
    assert first["event"] == f"lookup of {REDACTED} failed"
    assert first["level"] == "warning"
    assert first["logger"] == "some.library"
    assert second["level"] == "error"
    assert f"ValueError: no citizen {REDACTED}" in second["exception"]
    assert "0101" not in log.getvalue()


def test_bound_context_is_kept_and_redacted(log: io.StringIO) -> None:
    structlog.contextvars.bind_contextvars(meeting_id="M-1", note=f"re {CPR}")
    structlog.get_logger().info("step")
    [line] = lines(log)
    assert line["meeting_id"] == "M-1"
    assert line["note"] == f"re {REDACTED}"


def test_redaction_spares_what_is_not_a_cpr() -> None:
    kept = {
        "at": "2026-03-02T10:00:00+01:00",
        "eleven": "01019012345",
        "nine": "010190123",
        "meeting": "M-2026-0001",
        "case": "K-2026-0001",
        "n": 12,
        "ok": True,
        "message_id": "8a123456-7890-5345-b51d-62b1cbaf8c47",  # ten digits inside a UUID
        "hash": "ab0101901234cd",
    }
    assert redact(kept) == kept
    assert redact(101901234) == 101901234  # nine digits
    assert redact(2101901234) == REDACTED  # a CPR that became an int
    assert redact(("a", CPR)) == ["a", REDACTED]
    assert redact(f"cpr={CPR}; x-{CPR_DASHED}.") == f"cpr={REDACTED}; x-{REDACTED}."
    assert redact(f"til ({CPR})") == f"til ({REDACTED})"
    assert redact(f"cpr{CPR}x") == f"cpr{REDACTED}x"  # glued to letters that are not hex digits


def test_noisy_libraries_are_quiet_but_our_temporal_loggers_are_not(log: io.StringIO) -> None:
    logging.getLogger("urllib3.connectionpool").info("connection")
    logging.getLogger("temporalio.worker._worker").info("poll")
    activity.logger.info("from an activity")
    assert [line["event"] for line in lines(log)] == ["from an activity"]


def test_level_filters_structlog_and_stdlib() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    try:
        configure_logging("WARNING", stream=stream)
        configure_logging("WARNING", stream=stream)  # again: one handler, not two
        structlog.get_logger("quiet-test").info("hidden")
        logging.getLogger("quiet-test").info("hidden")
        structlog.get_logger("quiet-test").warning("shown")
        assert [line["event"] for line in lines(stream)] == ["shown"]
        with pytest.raises(ValueError, match="unknown log level"):
            configure_logging("LOUD")
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
        structlog.reset_defaults()


async def test_activity_context_is_bound_inside_an_activity(log: io.StringIO) -> None:
    @activity.defn(name="send_hearing_letter")
    async def send_hearing_letter() -> dict[str, Any]:
        with bind_activity_context(step="hearing_letter") as logger:
            logger.info("sending", to=CPR)
        activity_logger(channel="digital_post").info("sent")
        return temporal_context()

    workflow_id = f"missed-meeting-M-{uuid.uuid4()}"
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, workflow_id=workflow_id, activity_type="send_hearing_letter")
    context = await env.run(send_hearing_letter)
    assert context["workflow_id"] == workflow_id
    first, second = lines(log)
    for line in (first, second):
        assert line["workflow_id"] == workflow_id
        assert line["activity_type"] == env.info.activity_type
        assert line["run_id"] == env.info.workflow_run_id
    assert first["step"] == "hearing_letter" and first["to"] == REDACTED
    assert second["channel"] == "digital_post" and "step" not in second  # the binding ended with the block
    assert temporal_context() == {}
