"""Builders for activity inputs shared by the activity, letter, MeMo and SF1601 tests.

Each test module keeps its own `citizen()`: which citizen a test needs (readiness, channels, representatives)
is part of what it tests. The case reference and the hearing letter around that citizen are the same
everywhere, so they live here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from activities.models import CaseRef, Letter
from domain.events import Citizen, Ground

CPH = ZoneInfo("Europe/Copenhagen")
WF = "missed-meeting-M-1"


def case_ref(ground: Ground = Ground.jobsamtale) -> CaseRef:
    """Meeting M-1, missed Monday 2 March 2026 at 10:00."""
    return CaseRef(workflow_id=WF, meeting_id="M-1", case_id="K-2026-0001", ground=ground,
                   absence_at=datetime(2026, 3, 2, 10, 0, tzinfo=CPH))


def hearing_letter(citizen: Citizen, channel: str = "digital_post", /, **changes: Any) -> Letter:
    """The hearing letter for `case_ref()`: released Tuesday 3 March, answer deadline Wednesday 11 March."""
    data: dict[str, Any] = {
        "idempotency_key": f"{WF}/hearing_letter/citizen/{channel}",
        "case": case_ref(),
        "kind": "hearing",
        "channel": channel,
        "to": "citizen",
        "citizen": citizen,
        "release_on": date(2026, 3, 3),
        "deadline": date(2026, 3, 11),
        "deadline_ends_at": datetime(2026, 3, 12, 0, 0, tzinfo=CPH),
    }
    data.update(changes)
    return Letter.model_validate(data)
