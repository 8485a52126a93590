"""The readable table `simulate` prints: one row a case, in the words a caseworker uses."""

from __future__ import annotations

from collections import Counter
from typing import Any, TextIO

from domain import journal as j
from domain.events import MeetingMissed
from workflows.api import CaseStatus, Timeline

COLUMNS = (
    ("case", "name"),
    ("readiness", "readiness"),
    ("hearing", "hearing"),
    ("deadline", "deadline"),
    ("calls", "calls"),
    ("sms", "sms"),
    ("visits", "visits"),
    ("contact", "contact"),
    ("decision", "decision"),
    ("day", "day"),
    ("refused", "refused"),
    ("state", "state"),
)


def case_row(name: str, start: MeetingMissed, timeline: Timeline, status: CaseStatus) -> dict[str, Any]:
    steps = timeline.steps
    count = Counter(s["step"] for s in steps)
    contact = next((s for s in steps if s["step"] == j.CONTACT_MADE), None)
    hearing = sorted({s["channel"] for s in steps if s["step"] == j.HEARING_LETTER_SENT and s.get("to") == "citizen"})
    deadline = next((s["deadline"] for s in steps if s["step"] == j.DEADLINE_SET), "-")
    state = "closed" if status.closed else f"open: {status.waiting_for or status.stage}"
    return {
        "name": name,
        "readiness": start.citizen.readiness.value,
        "hearing": "+".join(c.replace("_post", "") for c in hearing) or "-",
        "deadline": deadline,
        "calls": count[j.PHONE_CALL],
        "sms": count[j.SMS_SENT],
        "visits": count[j.HOME_VISIT],
        "contact": f"{contact['via']} d{contact['day']}" if contact else "-",
        "decision": timeline.outcome.decision if timeline.outcome else "-",
        "day": f"{timeline.outcome.decided_day:.1f}" if timeline.outcome else "-",
        "refused": count[j.DECISION_REJECTED],
        "state": state,
    }


def print_table(rows: list[dict[str, Any]], out: TextIO) -> None:
    headers = [h for h, _ in COLUMNS]
    cells = [[str(r[k]) for _, k in COLUMNS] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for c in cells:
        print("  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)), file=out)


def print_journals(cases: list[dict[str, Any]], out: TextIO, *, width: int = 70) -> None:
    """Each case's journal, one line a step: day, local time, step, its facts."""
    for case in cases:
        print(f"\n{case['name']}  ({case['workflow_id']})", file=out)
        for step in case["steps"]:
            facts = "  ".join(
                f"{k}={_short(v, width)}" for k, v in step.items() if k not in {"at", "day", "step"} and v is not None
            )
            when = step["at"][:16].replace("T", " ")
            print(f"  day {step['day']:5.1f}  {when}  {step['step']:<28} {facts}".rstrip(), file=out)


def _short(value: Any, width: int) -> str:
    text = str(value).replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"
