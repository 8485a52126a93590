"""An HTTP request body as the numbered lines the intake reads, so HTTP and files share one code path.

Jobcenter systems send one JSON event, a JSON array of events, or JSON lines. The first two become one
line per event (number = position + 1); anything else is read as JSON lines exactly like a file, so a broken
line is rejected on its own, with its number, and kept verbatim. Nothing in the body is dropped silently.
"""

from __future__ import annotations

import io
import json

from intake.reader import SourceLine, read_lines

BOM = b"\xef\xbb\xbf"


def split_body(body: bytes) -> list[SourceLine]:
    """The events of a body, each as a `SourceLine`; an empty (or all-blank) body gives none."""
    text = _whole_text(body)
    if text is not None:
        try:
            document = json.loads(text)
        except json.JSONDecodeError:
            document = None
        if isinstance(document, list):
            return [SourceLine(number, _as_line(item)) for number, item in enumerate(document, start=1)]
        if isinstance(document, dict):
            return [SourceLine(1, _as_line(document))]
    return list(read_lines(io.BytesIO(body)))


def _whole_text(body: bytes) -> str | None:
    """The body as text if it is UTF-8 and might be one JSON document (object or array)."""
    data = body[len(BOM):] if body.startswith(BOM) else body
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if text.lstrip()[:1] in ("{", "[") else None


def _as_line(item: object) -> str:
    """One event serialized back to a JSON line, so the parser reads it and the rejects file keeps it whole."""
    text = json.dumps(item, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (a \ud800 escape): keep it escaped
        text = json.dumps(item)
    return text
