"""One JSON-lines log for everything the process says, with personal data removed before anything is written.

structlog loggers and plain stdlib loggers (temporalio, libraries) go through the same stdlib handler and
structlog's ProcessorFormatter, so every line is a JSON object with ``timestamp``, ``level``, ``event``,
``logger`` and whatever context is bound. The last step before rendering is the redaction: anything that
looks like a CPR number becomes ``[CPR]``, an e-mail address ``[EMAIL]``, a Danish phone number (+45)
``[PHONE]``, in the message and in every (nested) field, and the value of a field named like personal data
(``name``, ``address``, ``cpr``, ``email``, ``phone``, ``explanation``, ...) becomes ``[REDACTED]``. Names and
street addresses have no pattern, so that is all a log can do about them: a safety net under the rule that
no personal data is ever logged, not a licence to log any.

Inside an activity every line carries the activity's Temporal context (workflow id, run id, activity type and
id, attempt), however its logger was made; ``workflow.logger`` lines carry ``temporal_workflow``. Libraries
that print URLs (HTTP clients, aiohttp's access log) are held at WARNING. The level is
``MISSED_MEETING_LOG_LEVEL`` (default INFO) unless the caller passes one.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import IO, Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger
from temporalio import activity
from temporalio.runtime import LogForwardingConfig, LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter

CPR_PATTERN = re.compile(r"(?<![0-9A-Fa-f])\d{6}-?\d{4}(?![0-9A-Fa-f])")
"""Ten digits (DDMMYYSSSS), optionally with a dash after the sixth, not part of a longer number.

Nor part of a hexadecimal token: ten digits inside a UUID, a hash or a message id are not a CPR, and
mangling those ids would cost operators more than it protects. A CPR glued to other letters (``cpr0101901234``,
``K0101901234``) is still caught; one glued to the letters a-f is the price of that choice."""
REDACTED = "[CPR]"
EMAIL_PATTERN = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}")
REDACTED_EMAIL = "[EMAIL]"
PHONE_PATTERN = re.compile(r"(?:\+|\b00)45[ -]?(?:\d[ -]?){7}\d(?!\d)")
"""A Danish number with its country code (+45 or 0045), spaced or not. Eight digits alone are too common in
logs (ids, counts, times) to be taken for a phone number."""
REDACTED_PHONE = "[PHONE]"
PERSONAL_KEYS = frozenset({
    "cpr", "cpr_number", "name", "full_name", "citizen_name", "address", "street", "email", "e_mail",
    "email_to", "phone", "phone_number", "mobile", "explanation",
})
"""Field names whose value is personal data by definition: the value is dropped, whatever it looks like (except
an ``address`` that is a network address, such as the worker's Temporal ``host:port``)."""
NETWORK_ADDRESS = re.compile(r"^(?:[a-z][a-z0-9+.-]*://\S+|[A-Za-z0-9.\-]+:\d{1,5}|\[[0-9A-Fa-f:.]+\]:\d{1,5})$")
REDACTED_FIELD = "[REDACTED]"
_MARKERS = frozenset({REDACTED, REDACTED_EMAIL, REDACTED_PHONE, REDACTED_FIELD})
LEVEL_ENV = "MISSED_MEETING_LOG_LEVEL"

NOISY_LOGGERS = ("urllib3", "requests", "asyncio", "httpx", "httpcore", "aiohttp", "aiohttp.access",
                 "aiohttp.client", "aiohttp.server", "websockets", "temporalio")
"""Third-party loggers held at WARNING: their INFO chatter buries the case log, and most of them print URLs
(request lines with paths and query strings, e.g. aiohttp's access log and urllib3's connection pool), which
may carry identifiers a log has no business keeping."""
OUR_TEMPORAL_LOGGERS = ("temporalio.workflow", "temporalio.activity")
"""Loggers our own workflow and activity code writes to (``workflow.logger``, ``activity.logger``): these
keep the configured level even though the rest of ``temporalio`` is held at WARNING."""

_HANDLER_NAME = "missed-meeting-json"
CORE_LOGGER = "temporalio.core"
"""Where the SDK's Rust core logs go once forwarded (otherwise it prints coloured text to stdout)."""
_core_forwarded = False


def redact_text(text: str) -> str:
    """``text`` with CPR numbers, e-mail addresses and +45 phone numbers replaced by markers."""
    return PHONE_PATTERN.sub(REDACTED_PHONE, EMAIL_PATTERN.sub(REDACTED_EMAIL, CPR_PATTERN.sub(REDACTED, text)))


def _is_personal_key(key: object) -> bool:
    return isinstance(key, str) and key.lower() in PERSONAL_KEYS


def redact(value: object) -> object:
    """Return ``value`` with personal data replaced, looking into dicts, lists, tuples and sets.

    In text: CPR-like runs, e-mail addresses and +45 phone numbers. In a mapping: the whole value of a key
    named like personal data (PERSONAL_KEYS), unless it is empty. Objects of other types are turned into their
    ``str`` first, since the renderer would do so anyway and their text may hold personal data.
    """
    if isinstance(value, str):
        return redact_text(value)
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        return REDACTED if CPR_PATTERN.fullmatch(str(value)) else value
    if isinstance(value, Mapping):
        return {redact(k) if isinstance(k, str) else k: _redact_field(k, v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(v) for v in value]
    return redact_text(str(value))


def _redact_field(key: object, value: object) -> object:
    """A field's value redacted; under a personal-data key nothing of it is kept but a marker (the pattern's
    own marker when that was all the value held, e.g. ``cpr="0101901234"`` gives ``[CPR]``)."""
    redacted = redact(value)
    if not _is_personal_key(key) or value is None or value == "":
        return redacted
    if key == "address" and isinstance(value, str) and NETWORK_ADDRESS.match(value):
        return redacted
    if isinstance(redacted, str) and redacted in _MARKERS:
        return redacted
    return REDACTED_FIELD


def redact_cpr(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: the last one before rendering, so nothing added earlier escapes it.

    (Named for what it first did; it redacts all of ``redact``'s kinds of personal data.)"""
    redacted = redact(event_dict)
    assert isinstance(redacted, dict)
    return redacted


def add_temporal_context(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: inside an activity, its workflow id, run id, type, id and attempt on every line, however
    the logger was made (fields bound explicitly win)."""
    for key, value in temporal_context().items():
        event_dict.setdefault(key, value)
    return event_dict


def _shared_processors() -> list[Processor]:
    """Steps for structlog events and stdlib records alike, before the formatter renders them."""
    return [
        structlog.contextvars.merge_contextvars,
        add_temporal_context,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(allow=("temporal_workflow", "temporal_activity")),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]


def configure_logging(
    level: str | int | None = None, stream: IO[str] | None = None, *, core_logs: bool = True
) -> None:
    """Route structlog and stdlib logging to ``stream`` (default stderr) as redacted JSON lines.

    ``level`` defaults to ``MISSED_MEETING_LOG_LEVEL``, else INFO. With ``core_logs`` the Temporal SDK core's
    own warnings are forwarded into the same log (see forward_core_logs). Safe to call again (tests, embedded
    workers): the handler it installed before is replaced.
    """
    if level is None:
        level = os.environ.get(LEVEL_ENV, "").strip() or "INFO"
    numeric = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    shared = _shared_processors()
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_cpr,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
    )
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, numeric))
    for name in OUR_TEMPORAL_LOGGERS:
        logging.getLogger(name).setLevel(numeric)
    logging.captureWarnings(True)
    if core_logs:
        forward_core_logs()


def forward_core_logs() -> None:
    """Make the default Temporal runtime forward its Rust core's warnings to the ``temporalio.core`` logger.

    Without this the core prints coloured plain text to stdout, past the JSON format and the redaction.
    Applies to clients created afterwards; done once per process.
    """
    global _core_forwarded
    if _core_forwarded:
        return
    Runtime.set_default(Runtime(telemetry=TelemetryConfig(logging=core_logging_config())), error_if_already_set=False)
    _core_forwarded = True


def core_logging_config() -> LoggingConfig:
    """The SDK core's warnings, forwarded to the ``temporalio.core`` logger (shared with runtime.telemetry)."""
    return LoggingConfig(
        filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
        forwarding=LogForwardingConfig(logger=logging.getLogger(CORE_LOGGER)),
    )


def temporal_context() -> dict[str, Any]:
    """The Temporal ids of the running activity (empty outside one): what an operator greps the log for."""
    if not activity.in_activity():
        return {}
    info = activity.info()
    return {
        "workflow_id": info.workflow_id,
        "run_id": info.workflow_run_id,
        "activity_type": info.activity_type,
        "activity_id": info.activity_id,
        "attempt": info.attempt,
    }


@contextmanager
def bind_activity_context(**extra: Any) -> Iterator[structlog.stdlib.BoundLogger]:
    """Inside an activity: bind its workflow id, run id and type to every log line in the block.

    A context manager rather than a bare bind, so the binding ends with the activity and cannot leak into
    the next activity run on the same thread. Yields a logger for convenience; outside an activity only
    ``extra`` is bound.
    """
    context = {**temporal_context(), **extra}
    with structlog.contextvars.bound_contextvars(**context):
        yield structlog.stdlib.get_logger("activities")


def activity_logger(name: str = "activities", **extra: Any) -> structlog.stdlib.BoundLogger:
    """A logger carrying the running activity's Temporal context (and ``extra``) on every line."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger.bind(**temporal_context(), **extra)
