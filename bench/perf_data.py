"""Synthetic input for the benchmark: meeting_missed events and simulation scenarios, in the contract's formats.

Citizens are invented and their CPR numbers obviously fake (`0101xxxxxx`, day 01 month 01); meeting and case
ids hold no CPR. The population mixes the shapes the system sees: jobparat and uddannelsesparat citizens on
Digital Post or paper, and aktivitetsparat citizens who never logged in and have a mentor (more letters, and
the contact ladder in a simulation).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

CPH = ZoneInfo("Europe/Copenhagen")


@dataclass(frozen=True)
class Citizen:
    """One kind of citizen in the mix."""

    readiness: str
    digital_post: str
    nemsms: bool = False
    mentor: bool = False


MIX: tuple[Citizen, ...] = (
    Citizen("jobparat", "registered"),
    Citizen("jobparat", "registered", nemsms=True),
    Citizen("uddannelsesparat", "exempt"),
    Citizen("aktivitetsparat", "never_logged_in", nemsms=True, mentor=True),
)
"""Cycled through in order, so any N has (nearly) the same mix."""


def fake_cpr(n: int) -> str:
    """Ten digits that are plainly not a person: born 1 January, serial from the counter."""
    return f"0101{(n // 10000) % 100:02d}{n % 10000:04d}"


def citizen_json(kind: Citizen, n: int) -> dict[str, Any]:
    data: dict[str, Any] = {
        "cpr": fake_cpr(n), "name": f"Borger {n}", "address": f"Benchvej {n % 500 + 1}, 2200 København N",
        "readiness": kind.readiness, "digital_post": kind.digital_post, "nemsms": kind.nemsms,
        "phone": "+4512345678", "email": f"borger{n}@example.dk", "guidance_given_on": "2025-12-01",
        "representatives": [],
    }
    if kind.mentor:
        data["representatives"] = [{"role": "mentor", "name": "Anna Berg", "phone": "+4587654321",
                                    "address": "Mentorvej 2, 2100 København Ø"}]
    return data


def meeting_missed(prefix: str, n: int, occurred_at: datetime, mix: Sequence[Citizen] = MIX) -> dict[str, Any]:
    """The n-th synthetic meeting_missed event of a run; `prefix` keeps runs on one server apart."""
    return {
        "event_id": f"{prefix}-e-{n:06d}", "type": "meeting_missed", "occurred_at": occurred_at.isoformat(),
        "meeting_id": f"{prefix}-M-{n:06d}", "case_id": f"K-{prefix}-{n:06d}", "ground": "jobsamtale",
        "citizen": citizen_json(mix[n % len(mix)], n),
    }


def write_events(path: Path, prefix: str, count: int, occurred_at: datetime) -> Path:
    """`count` meeting_missed events as JSON lines, what a jobcenter's system would hand `starter.py events`."""
    lines = (json.dumps(meeting_missed(prefix, n, occurred_at), ensure_ascii=False) for n in range(count))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


SIM_ABSENCES = (
    datetime(2026, 3, 2, 10, 0, tzinfo=CPH),
    datetime(2026, 9, 8, 13, 30, tzinfo=CPH),
    datetime(2026, 11, 11, 9, 0, tzinfo=CPH),
)
"""Absences on a few dates, so the simulated calendars differ (spring, autumn, a winter with Christmas near)."""


def scenario(prefix: str, n: int) -> dict[str, Any]:
    """A simulation case: every other one jobparat without an answer (deadline, decision task, sanction
    letter), the rest aktivitetsparat through the full ladder (calls, NemSMS, e-mail, mentor, home visit)
    with no contact made, then a decision; both end with the decision letter and payments."""
    at = SIM_ABSENCES[n % len(SIM_ABSENCES)]
    if n % 2 == 0:
        kind, caseworker = Citizen("jobparat", "registered"), {"decision": "sanction", "hours": 2}
    else:
        kind = Citizen("aktivitetsparat", "registered", nemsms=True, mentor=True)
        caseworker = {"phone_call": ["no_answer", "voicemail", "no_answer"], "representative": ["no_contact"],
                      "home_visit": ["no_contact"], "decision": "sanction", "hours": 2}
    case = meeting_missed(prefix, n, at, mix=(kind,))
    name = f"{prefix}-{'jobparat' if n % 2 == 0 else 'aktivitetsparat-ladder'}-{n:05d}"
    return {"name": name, "case": case, "events": [], "caseworker": caseworker}


def write_scenarios(path: Path, prefix: str, count: int) -> Path:
    """`count` scenario cases as JSON lines (contract.md: Simulation scenarios)."""
    lines = (json.dumps(scenario(prefix, n), ensure_ascii=False) for n in range(count))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
