"""What a drill checks once the dust settles: every case's journal, and the outbox against that journal.

The outbox's UNIQUE idempotency key already makes a repeated key impossible, so that is not what is counted
here. Instead every journal step that sends something is matched to outbox rows by (kind, channel,
recipient): a row the journal does not account for is a second send under another key (a task opened twice,
a letter whose key changed on replay); a step without its row is a send that was lost.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from activities.outbox import OutboxRecord

Send = tuple[str, str, str]
"""(outbox kind, channel, recipient)."""


def _letter(kind: str) -> Any:
    return lambda d: (kind, d.get("channel", ""), d.get("to", "citizen"))


SENDS: Mapping[str, Any] = {
    "hearing_letter_sent": _letter("hearing_letter"),
    "decision_letter_sent": lambda d: (
        "decision_letter" if d.get("kind", "decision") == "decision" else "reassessment_letter",
        d.get("channel", ""), d.get("to", "citizen"),
    ),
    "decision_task_opened": lambda d: ("task", "caseworker", "caseworker"),
    "reassessment_task_opened": lambda d: ("task", "caseworker", "caseworker"),
    "task_opened": lambda d: ("task", "caseworker", "caseworker"),
    "task_cancelled": lambda d: ("task_cancellation", "caseworker", "caseworker"),
    "sms_sent": lambda d: ("sms", "nemsms", "citizen"),
    "deadline_reminder_sent": lambda d: ("sms", "nemsms", "citizen"),
    "email_sent": lambda d: ("email", "email", "citizen"),
    "deduction_registered": lambda d: ("payment", "payments", "payments"),
    "deduction_ended": lambda d: ("payment", "payments", "payments"),
    "sanction_annulled": lambda d: ("payment", "payments", "payments"),
    "deduction_limit_alarm": lambda d: ("alarm", "operator", "operator"),
}
"""Journal step → the outbox row it stands for."""


def expected_sends(steps: Iterable[Mapping[str, Any]]) -> Counter[Send]:
    return Counter(SENDS[s["step"]](s) for s in steps if s["step"] in SENDS)


def actual_sends(rows: Iterable[OutboxRecord]) -> Counter[Send]:
    return Counter((r.kind, r.channel, r.recipient) for r in rows)


def compare_sends(expected: Counter[Send], actual: Counter[Send]) -> tuple[int, int, list[str]]:
    """(rows beyond the journal, journal steps without a row, a line per difference)."""
    extra, missing, lines = 0, 0, []
    for send in sorted(set(expected) | set(actual)):
        want, got = expected[send], actual[send]
        if got > want:
            extra += got - want
            lines.append(f"{'/'.join(send)}: {got} in the outbox, {want} in the journal")
        elif want > got:
            missing += want - got
            lines.append(f"{'/'.join(send)}: {want} in the journal, only {got} in the outbox")
    return extra, missing, lines


def files_holding(paths: Iterable[Path], secrets: Iterable[str]) -> list[str]:
    """Which of `paths` contain any of `secrets` (CPR numbers) as plain text: there must be none."""
    needles = [s.encode() for s in secrets]
    found = []
    for path in paths:
        if not path.exists():
            continue
        data = path.read_bytes()
        if any(n in data for n in needles):
            found.append(path.name)
    return found
