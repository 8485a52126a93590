"""Rejected lines: kept whole in a rejects file, reported without personal data.

The rejects file is the one place an input line is copied to, because nothing may be lost: the operator
fixes the line and feeds it again. Everything printed or logged about a line goes through `redact` first,
a last line of defence should a CPR number ever end up in a reason (an unknown field named after one, say);
it uses the same pattern as the log's redaction (`runtime.logging`).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TextIO

from runtime.logging import CPR_PATTERN, REDACTED


def redact(text: str) -> str:
    """Replace anything shaped like a CPR number (ten digits, or six-dash-four) with a placeholder."""
    return CPR_PATTERN.sub(REDACTED, text)


class RejectsFile:
    """Appends one JSON object per rejected line; created only when the first line is rejected.

    Each record carries the original line as a string (`raw`), so even a line that is not JSON is kept
    exactly, with the line number, the reason and where it came from:
    `{"line": 3, "reason": "...", "rejected_at": "...", "source": "events.jsonl", "raw": "..."}`.
    """

    def __init__(self, path: Path, source: str) -> None:
        self.path = path
        self.source = source
        self.count = 0
        self._file: TextIO | None = None

    def append(self, line: int, reason: str, raw: str) -> None:
        """Write one record and flush it: a crash later in the run must not lose it."""
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # the kept lines hold personal data (CPR, name, address): readable by the owner only
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            self._file = open(fd, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        record = {
            "line": line,
            "reason": redact(reason),
            "rejected_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "source": self.source,
            "raw": raw,
        }
        self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._file.flush()
        self.count += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> RejectsFile:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def raw_lines(path: Path) -> list[str]:
    """The original lines kept in a rejects file, in order: what to fix and feed to the intake again."""
    with path.open(encoding="utf-8") as f:
        return [json.loads(record)["raw"] for record in f if record.strip()]
