"""The cases a drill plays: short scripts that run from missed meeting to closed case in seconds of real time.

A real server's timers are real time, so a drill can only use what the case does without waiting for the
calendar: hearing letters (due at once), an answer, the decision task, a decision, the decision letter,
payments, and for a sanction the citizen turning up again. Every case lives on the case clock of a Wednesday
morning (the simulation clock offset, `CaseInput.clock_offset_seconds`), whatever day and hour the drill
runs: office hours and working days hold for the whole drill.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from domain.events import MeetingMissed, parse_event

CPH = ZoneInfo("Europe/Copenhagen")
CASE_CLOCK_START = datetime(2026, 3, 4, 10, 0, tzinfo=CPH)
"""What the case clock says when a drill starts: a Wednesday at 10:00, five office hours to go."""
ABSENCE = datetime(2026, 3, 2, 10, 0, tzinfo=CPH)
"""The missed meeting: the Monday before, so the hearing letter is due the moment a case starts."""

Answer = Literal["citizen_responded", "citizen_attended"]


@dataclass(frozen=True)
class Script:
    """One kind of case: who the citizen is, how they answer, what the caseworker decides."""

    name: str
    readiness: str
    digital_post: str
    answer: Answer
    decision: str
    mentor: bool = False
    restore_contact: bool = False
    """After a sanction: the citizen is available again, which ends the deduction and lets the case close."""


SCRIPTS: tuple[Script, ...] = (
    Script("answer, reasonable cause", "jobparat", "registered", "citizen_responded", "no_sanction_reasonable_cause"),
    Script("answer, sanction, contact restored", "uddannelsesparat", "registered", "citizen_responded", "sanction",
           restore_contact=True),
    Script("never logged in, mentor, turns up", "aktivitetsparat", "never_logged_in", "citizen_attended",
           "no_sanction_other", mentor=True),
    Script("paper post, sanction, contact restored", "jobparat", "exempt", "citizen_responded", "sanction",
           restore_contact=True),
)


@dataclass(frozen=True)
class CaseClock:
    """The offset that puts every drill case on `CASE_CLOCK_START` when the drill begins."""

    offset_seconds: float

    @classmethod
    def starting_now(cls) -> CaseClock:
        return cls(float(math.floor((datetime.now(UTC) - CASE_CLOCK_START).total_seconds())))

    def now(self) -> datetime:
        return (datetime.now(UTC) - timedelta(seconds=self.offset_seconds)).astimezone(CPH).replace(microsecond=0)


@dataclass(frozen=True)
class DrillCase:
    """One case of a run: its script, its meeting id, and a citizen of its own (a CPR the drill looks for)."""

    index: int
    script: Script
    meeting_id: str
    cpr: str

    @property
    def steps(self) -> int:
        """What the driver does for it: start, answer, decide, (contact restored,) see it completed."""
        return 5 if self.script.restore_contact else 4

    def meeting_missed(self) -> MeetingMissed:
        citizen: dict[str, Any] = {
            "cpr": self.cpr, "name": f"Borger {self.index}", "address": f"Drillvej {self.index}, 2200 København N",
            "readiness": self.script.readiness, "digital_post": self.script.digital_post, "nemsms": False,
            "phone": "+4512345678", "guidance_given_on": "2025-12-01",
        }
        if self.script.mentor:
            citizen["representatives"] = [{"role": "mentor", "name": "Anna Berg", "address": "Mentorvej 2, 2100 Kbh Ø"}]
        event = parse_event(_json({
            "event_id": f"{self.meeting_id}-missed", "type": "meeting_missed", "occurred_at": ABSENCE.isoformat(),
            "meeting_id": self.meeting_id, "case_id": f"K-drill-{self.index:05d}", "ground": "jobsamtale",
            "citizen": citizen,
        }))
        assert isinstance(event, MeetingMissed)
        return event

    def answer(self, at: datetime) -> dict[str, Any]:
        base = {"event_id": f"{self.meeting_id}-answer", "type": self.script.answer, "occurred_at": at.isoformat(),
                "meeting_id": self.meeting_id}
        if self.script.answer == "citizen_responded":
            return base | {"channel": "digital_post", "explanation": "Jeg var syg",
                           "reasonable_cause": "illness" if "reasonable" in self.script.name else None}
        return base | {"explanation": "Kom forbi dagen efter"}

    def decision(self, at: datetime) -> dict[str, Any]:
        return {"event_id": f"{self.meeting_id}-decision", "type": "task_completed", "occurred_at": at.isoformat(),
                "meeting_id": self.meeting_id, "task": "decision", "outcome": self.script.decision, "by": "cw-drill"}

    def contact_restored(self, at: datetime) -> dict[str, Any]:
        return {"event_id": f"{self.meeting_id}-restored", "type": "contact_restored", "occurred_at": at.isoformat(),
                "meeting_id": self.meeting_id}


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False)


def make_cases(count: int, prefix: str, seed: int) -> list[DrillCase]:
    """`count` cases cycling through the scripts, each with its own random (fake) CPR number."""
    rng = random.Random(seed)
    return [
        DrillCase(index=n, script=SCRIPTS[n % len(SCRIPTS)], meeting_id=f"{prefix}-{n:05d}",
                  cpr=f"{rng.randrange(1, 10**10):010d}")
        for n in range(count)
    ]
