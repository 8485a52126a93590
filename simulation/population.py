"""Synthetic populations of missed meetings: `simulate --generate N` draws them from `config/population.toml`.

Each generated case is an ordinary `ScenarioCase` (the scenario file's model: a `meeting_missed` event, scripted
citizen events, a caseworker script), so a generated population plays through the same code path as a scenario
file and can be written out as one (`--write-scenarios`). The same seed and parameters give the same population:
case `i` draws from its own generator seeded with `(seed, i)`, so it does not depend on how many cases are made.

Personal data is synthetic and looks it: CPR numbers start with `00` (day 00 does not exist), names are
"Syntetisk Borger <n>", addresses are on "Simuleringsvej" in postcode 9999.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from datetime import date, datetime, time, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Annotated, Any, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from domain.calendar import WorkingCalendar
from domain.config_files import read_toml
from domain.events import (
    Decision,
    DigitalPostStatus,
    Ground,
    Readiness,
    RepresentativeRole,
    ResponseChannel,
    describe_validation_error,
)
from domain.policy import Policy, snapshot
from simulation.scenario import CaseworkerScript, ScenarioCase, ScenarioEvent

DEFAULT_POPULATION_PATH = Path(__file__).resolve().parent.parent / "config" / "population.toml"

Share = Annotated[float, Field(ge=0.0, le=1.0)]
Weight = Annotated[float, Field(ge=0.0)]
K = TypeVar("K")


class PopulationError(ValueError):
    """The population file is missing, unreadable or invalid; the message names the file and the field."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _positive_total(weights: Mapping[Any, float], name: str) -> None:
    if not weights or sum(weights.values()) <= 0:
        raise ValueError(f"{name}: the weights must add up to more than 0")


class Triangular(_Model):
    """A triangular distribution (days or hours): `low` ≤ `mode` ≤ `high`."""

    low: Annotated[float, Field(ge=0)]
    mode: Annotated[float, Field(ge=0)]
    high: Annotated[float, Field(ge=0)]

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.low <= self.mode <= self.high:
            raise ValueError("low <= mode <= high is required")
        return self

    def draw(self, rng: random.Random) -> float:
        return rng.triangular(self.low, self.high, self.mode)


class ByReadiness(_Model):
    """One share for each readiness category."""

    jobparat: Share
    uddannelsesparat: Share
    aktivitetsparat: Share

    def of(self, readiness: Readiness) -> float:
        value: float = getattr(self, readiness.value)
        return value


class Period(_Model):
    start: date = Field(alias="from")
    end: date = Field(alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end < self.start:
            raise ValueError("'to' must not be before 'from'")
        return self


class Meetings(_Model):
    weekday_weights: Annotated[tuple[Weight, Weight, Weight, Weight, Weight], Field()] = (1.0, 1.05, 1.05, 1.0, 0.8)
    hours: tuple[Annotated[int, Field(ge=0, le=23)], ...] = (8, 9, 10, 11, 12, 13, 14)
    hour_weights: tuple[Weight, ...] = (0.7, 1.2, 1.2, 1.0, 0.6, 1.0, 0.8)
    grounds: dict[Ground, Weight] = {Ground.jobsamtale: 0.55, Ground.raadighedsvurdering: 0.10,
                                     Ground.tilbud: 0.30, Ground.selvbook: 0.05}

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if len(self.hours) != len(self.hour_weights):
            raise ValueError("hours and hour_weights must have the same length")
        _positive_total(dict(enumerate(self.hour_weights)), "hour_weights")
        _positive_total(dict(enumerate(self.weekday_weights)), "weekday_weights")
        _positive_total(self.grounds, "grounds")
        return self


class Citizens(_Model):
    readiness: dict[Readiness, Weight] = {Readiness.jobparat: 0.40, Readiness.uddannelsesparat: 0.15,
                                          Readiness.aktivitetsparat: 0.45}
    digital_post: dict[DigitalPostStatus, Weight] = {DigitalPostStatus.registered: 0.82,
                                                     DigitalPostStatus.exempt: 0.08,
                                                     DigitalPostStatus.never_logged_in: 0.10}
    nemsms: Share = 0.30
    phone: Share = 0.92
    email: Share = 0.55
    guidance_on_file: Share = 0.98

    @model_validator(mode="after")
    def _weights(self) -> Self:
        _positive_total(self.readiness, "readiness")
        _positive_total(self.digital_post, "digital_post")
        return self


class Representatives(_Model):
    share: ByReadiness = ByReadiness(jobparat=0.03, uddannelsesparat=0.10, aktivitetsparat=0.45)
    roles: dict[RepresentativeRole, Weight] = {
        RepresentativeRole.mentor: 0.35, RepresentativeRole.stoettekontaktperson: 0.25,
        RepresentativeRole.social_services: 0.20, RepresentativeRole.family: 0.10,
        RepresentativeRole.partsrepraesentant: 0.05, RepresentativeRole.vaerge: 0.05,
    }
    second: Share = 0.20
    postal_address: Share = 0.50
    email: Share = 0.60

    @model_validator(mode="after")
    def _weights(self) -> Self:
        _positive_total(self.roles, "roles")
        return self


class Answers(_Model):
    rate: ByReadiness = ByReadiness(jobparat=0.45, uddannelsesparat=0.40, aktivitetsparat=0.25)
    day: Triangular = Triangular(low=0.5, mode=3.0, high=14.0)
    channels: dict[ResponseChannel, Weight] = {
        ResponseChannel.digital_post: 0.40, ResponseChannel.phone: 0.30, ResponseChannel.in_person: 0.15,
        ResponseChannel.email: 0.10, ResponseChannel.letter: 0.05,
    }
    reasonable_cause: Share = 0.40
    causes: dict[Annotated[str, Field(pattern=r"^[a-z_]{1,40}$")], Weight] = {
        "illness": 0.55, "hospitalised": 0.15, "childbirth": 0.03, "other": 0.27,
    }

    @model_validator(mode="after")
    def _weights(self) -> Self:
        _positive_total(self.channels, "channels")
        _positive_total(self.causes, "causes")
        return self


class Ladder(_Model):
    phone_reached: Share = 0.15
    voicemail: Share = 0.50
    representative_reaches: Share = 0.30
    at_home: Share = 0.40
    turns_up: Share = 0.08
    turns_up_day: Triangular = Triangular(low=9.0, mode=13.0, high=22.0)


class Caseworkers(_Model):
    hours: dict[Annotated[str, Field(pattern=r"^[0-9]+(\.[0-9]+)?$")], Weight] = {
        "1": 0.20, "2": 0.30, "4": 0.25, "6": 0.12, "10": 0.08, "16": 0.05,
    }

    @model_validator(mode="after")
    def _weights(self) -> Self:
        _positive_total(self.hours, "hours")
        return self


class Decisions(_Model):
    cause_accepted: Share = 0.85
    answered_sanctioned: ByReadiness = ByReadiness(jobparat=0.70, uddannelsesparat=0.65, aktivitetsparat=0.35)
    silent_sanctioned: ByReadiness = ByReadiness(jobparat=0.95, uddannelsesparat=0.95, aktivitetsparat=0.60)
    contact_sanctioned: Share = 0.40
    if_refused: Decision = Decision.no_sanction_other

    @model_validator(mode="after")
    def _fallback(self) -> Self:
        if self.if_refused == Decision.sanction:
            raise ValueError("if_refused: a refused decision cannot be replaced by a sanction")
        return self


class AfterSanction(_Model):
    contact_restored: Share = 0.70
    contact_restored_day: Triangular = Triangular(low=25.0, mode=35.0, high=90.0)
    new_information: Share = 0.05
    new_information_day: Triangular = Triangular(low=20.0, mode=28.0, high=50.0)
    annul: Share = 0.60


class Population(_Model):
    """Everything the generator draws from. The defaults are `config/population.toml`'s (a test keeps them equal)."""

    period: Period = Period(start=date(2026, 1, 1), end=date(2026, 12, 31))
    meetings: Meetings = Meetings()
    citizens: Citizens = Citizens()
    representatives: Representatives = Representatives()
    answers: Answers = Answers()
    ladder: Ladder = Ladder()
    caseworkers: Caseworkers = Caseworkers()
    decisions: Decisions = Decisions()
    after_sanction: AfterSanction = AfterSanction()


def load_population(path: Path | None = None) -> Population:
    """Read a population TOML file (default `config/population.toml`); every problem is a PopulationError."""
    path = path or DEFAULT_POPULATION_PATH
    raw = read_toml(path, "population", PopulationError)
    try:
        return Population.model_validate(raw)
    except ValidationError as exc:
        raise PopulationError(f"population file {path} is invalid: {describe_validation_error(exc, skip_prefix=0)}"
                              ) from None


# -- drawing ------------------------------------------------------------------------------------------------------
def _pick(rng: random.Random, weights: Mapping[K, float]) -> K:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _chance(rng: random.Random, share: float) -> bool:
    return rng.random() < share


EXPLANATIONS = {
    "illness": "I was ill",
    "hospitalised": "I was admitted to hospital",
    "childbirth": "my child was born that day",
    "other": "a family emergency",
    None: "I forgot the meeting",
}
"""Synthetic explanations; real ones would be the citizen's own words."""


class Generator:
    """Draws cases for one population, seed and policy calendar (meetings fall on the policy's working days)."""

    def __init__(self, population: Population, policy: Policy, seed: int,
                 start: date | None = None, end: date | None = None) -> None:
        self.pop = population
        self.seed = seed
        self.start = start or population.period.start
        self.end = end or population.period.end
        if self.end < self.start:
            raise PopulationError(f"--to ({self.end}) is before --from ({self.start})")
        years = self.end.year - self.start.year + 1
        self.cal = WorkingCalendar(snapshot(policy, first_year=self.start.year, years=years))
        days = [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]
        self.days = [d for d in days if self.cal.is_working_day(d)]
        if not self.days:
            raise PopulationError(f"no working day between {self.start} and {self.end}")
        self.day_cum = list(accumulate(population.meetings.weekday_weights[d.weekday()] for d in self.days))

    def cases(self, count: int) -> Iterator[ScenarioCase]:
        """`count` cases, one at a time in order of their absence (the order they are played and reported)."""
        order = sorted(range(count), key=lambda i: (self._absence(self._rng(i)), i))
        return (self.case(i) for i in order)

    def _rng(self, index: int) -> random.Random:
        return random.Random(f"{self.seed}:{index}")

    def case(self, index: int) -> ScenarioCase:
        """Case `index` of this seed: the same whatever else is generated (its absence is its first draw)."""
        rng = self._rng(index)
        occurred = self._absence(rng)
        readiness = _pick(rng, self.pop.citizens.readiness)
        name = f"gen-{self.seed}-{index:06d}"
        meeting_id = f"SIM-{self.seed}-{index:06d}"
        citizen = self._citizen(rng, index, readiness, occurred.date())
        events, script = self._story(rng, readiness, citizen)
        case = {
            "event_id": f"sim-{meeting_id}", "type": "meeting_missed", "occurred_at": occurred.isoformat(),
            "meeting_id": meeting_id, "case_id": f"K-SIM-{self.seed}-{index:06d}",
            "ground": _pick(rng, self.pop.meetings.grounds).value, "citizen": citizen,
        }
        return ScenarioCase(name=name, case=case, events=events, caseworker=script)

    def _absence(self, rng: random.Random) -> datetime:
        day = rng.choices(self.days, cum_weights=self.day_cum)[0]
        hour = rng.choices(self.pop.meetings.hours, weights=self.pop.meetings.hour_weights)[0]
        return self.cal.at(day, time(hour, rng.choice((0, 15, 30, 45))))

    def _citizen(self, rng: random.Random, index: int, readiness: Readiness, day: date) -> dict[str, Any]:
        c = self.pop.citizens
        number = f"{self.seed % 100:02d}{index:06d}"
        guidance = day - timedelta(days=rng.randint(30, 700)) if _chance(rng, c.guidance_on_file) else None
        return {
            "cpr": f"00{number}",  # day 00: never a real CPR number
            "name": f"Syntetisk Borger {number}",
            "address": f"Simuleringsvej {index % 300 + 1}, 9999 Simuleringsby",
            "readiness": readiness.value,
            "digital_post": _pick(rng, c.digital_post).value,
            "nemsms": _chance(rng, c.nemsms),
            "phone": f"+45 00 {index % 10000:04d} 00" if _chance(rng, c.phone) else None,
            "email": f"borger{number}@example.invalid" if _chance(rng, c.email) else None,
            "guidance_given_on": guidance.isoformat() if guidance else None,
            "representatives": self._representatives(rng, readiness, number),
        }

    def _representatives(self, rng: random.Random, readiness: Readiness, number: str) -> list[dict[str, Any]]:
        r = self.pop.representatives
        if not _chance(rng, r.share.of(readiness)):
            return []
        count = 2 if _chance(rng, r.second) else 1
        reps = []
        for n in range(1, count + 1):
            reps.append({
                "role": _pick(rng, r.roles).value,
                "name": f"Syntetisk Kontakt {number}-{n}",
                "phone": f"+45 00 00 {n:02d} 00",
                "email": f"kontakt{number}-{n}@example.invalid" if _chance(rng, r.email) else None,
                "address": f"Kontaktvej {n}, 9999 Simuleringsby" if _chance(rng, r.postal_address) else None,
            })
        return reps

    def _story(self, rng: random.Random, readiness: Readiness, citizen: dict[str, Any]
               ) -> tuple[list[ScenarioEvent], CaseworkerScript]:
        """What the citizen does and what the caseworker finds and decides."""
        a, lad, d = self.pop.answers, self.pop.ladder, self.pop.decisions
        events: list[dict[str, Any]] = []
        cause: str | None = None
        answered = _chance(rng, a.rate.of(readiness))
        if answered:
            cause = _pick(rng, a.causes) if _chance(rng, a.reasonable_cause) else None
            events.append({"day": round(a.day.draw(rng), 2), "type": "citizen_responded",
                           "channel": _pick(rng, a.channels).value, "explanation": EXPLANATIONS[cause],
                           "reasonable_cause": cause})
        phone = [("reached" if _chance(rng, lad.phone_reached) else
                  "voicemail" if _chance(rng, lad.voicemail) else "no_answer") for _ in range(5)]
        representative = ["contact_made" if _chance(rng, lad.representative_reaches) else "no_contact"
                          for _ in range(3)]
        home_visit = ["contact_made" if _chance(rng, lad.at_home) else "no_contact" for _ in range(3)]
        turns_up = _chance(rng, lad.turns_up)
        if turns_up:
            events.append({"day": round(lad.turns_up_day.draw(rng), 2), "type": "citizen_attended",
                           "explanation": "came to the jobcenter after a home visit note"})
        if answered and cause is not None:
            decision = (Decision.no_sanction_reasonable_cause if _chance(rng, d.cause_accepted)
                        else Decision.sanction if _chance(rng, d.answered_sanctioned.of(readiness))
                        else Decision.no_sanction_other)
        elif answered:
            decision = Decision.sanction if _chance(rng, d.answered_sanctioned.of(readiness)) else (
                Decision.no_sanction_other)
        elif readiness == Readiness.aktivitetsparat and self._ladder_contact(citizen, phone, representative,
                                                                              home_visit, turns_up):
            decision = Decision.sanction if _chance(rng, d.contact_sanctioned) else Decision.no_sanction_other
        else:
            decision = Decision.sanction if _chance(rng, d.silent_sanctioned.of(readiness)) else (
                Decision.no_sanction_other)
        reassessment: list[str] = []
        if decision == Decision.sanction:
            events += self._after_sanction(rng, reassessment)
        script = CaseworkerScript.model_validate({
            "phone_call": phone, "representative": representative, "home_visit": home_visit,
            "decision": decision.value, "reassessment": reassessment,
            "hours": float(_pick(rng, self.pop.caseworkers.hours)), "if_refused": d.if_refused.value,
        })
        return [ScenarioEvent.model_validate(e) for e in sorted(events, key=lambda e: e["day"])], script

    @staticmethod
    def _ladder_contact(citizen: dict[str, Any], phone: list[str], representative: list[str],
                        home_visit: list[str], turns_up: bool) -> bool:
        """Would the default ladder (3 calls, the contact representatives, 1 home visit) reach the citizen?"""
        contact_roles = {"mentor", "stoettekontaktperson", "social_services"}
        asked = [r for r in citizen["representatives"] if r["role"] in contact_roles]
        return (turns_up or (citizen["phone"] is not None and "reached" in phone[:3])
                or "contact_made" in representative[:len(asked)] or home_visit[0] == "contact_made")

    def _after_sanction(self, rng: random.Random, reassessment: list[str]) -> list[dict[str, Any]]:
        s = self.pop.after_sanction
        events: list[dict[str, Any]] = []
        if _chance(rng, s.new_information):
            cause = _pick(rng, self.pop.answers.causes)
            events.append({"day": round(s.new_information_day.draw(rng), 2), "type": "citizen_responded",
                           "channel": "in_person", "explanation": EXPLANATIONS[cause], "reasonable_cause": cause})
            reassessment.append("annul" if _chance(rng, s.annul) else "uphold")
        if _chance(rng, s.contact_restored):
            events.append({"day": round(s.contact_restored_day.draw(rng), 2), "type": "contact_restored"})
        return events
