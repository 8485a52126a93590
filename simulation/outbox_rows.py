"""What a simulation reads back from its outbox: the envelope of every send, without the letters' text.

The outbox (activities/outbox.py) holds exactly what was sent, as sent: the report counts letters by channel and
release day, and tasks by kind and opening time, from here. Read-only and by row id, so each batch reads just
the rows it added.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class OutboxRow:
    id: int
    meeting_id: str
    kind: str
    channel: str
    recipient: str
    release_on: str | None
    payload: dict[str, Any]


def rows_after(path: Path, last_id: int) -> Iterator[OutboxRow]:
    """Every outbox row with an id above `last_id`, in id order."""
    if not path.exists():
        return
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as conn:
        cursor = conn.execute(
            "SELECT id, meeting_id, kind, channel, recipient, release_on, payload_json FROM outbox "
            "WHERE id > ? ORDER BY id", (last_id,))
        for row in cursor:
            yield OutboxRow(id=row[0], meeting_id=row[1], kind=row[2], channel=row[3], recipient=row[4],
                            release_on=row[5], payload=json.loads(row[6] or "{}"))
