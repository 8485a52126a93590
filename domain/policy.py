"""The municipality's practice as data: deadlines, office hours, calendar, the contact ladder.

Copenhagen's practice (domain.md) is the default in `config/policy.toml`. A case carries a `PolicySnapshot`
in its workflow input: the policy *and* the closed days materialised for the years the case can live, so a
case keeps the rules it started under, replays deterministically, and does not depend on the installed
version of the `holidays` package.
"""

from __future__ import annotations

from datetime import date, time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from domain.config_files import read_toml
from domain.events import RepresentativeRole, TaskKind

DEFAULT_POLICY_PATH = Path(__file__).resolve().parent.parent / "config" / "policy.toml"


class LadderStepKind(StrEnum):
    """The rungs of the extended hearing (*udvidet partshøring*), in Copenhagen's order."""

    inbound_check = "inbound_check"
    phone_call = "phone_call"
    nemsms = "nemsms"
    email = "email"
    representative = "representative"
    home_visit = "home_visit"


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LadderStep(_Frozen):
    """One rung: how many attempts, and how long (working hours) to give the citizen to react after each."""

    kind: LadderStepKind
    attempts: Annotated[int, Field(ge=1, le=10)] = 1
    wait_hours: Annotated[float, Field(ge=0, le=200)] = 0.0


class OfficeHours(_Frozen):
    """When letters may be released and tasks are worked: citizens must be able to call the office."""

    opens: time = time(8, 0)
    closes: time = time(15, 0)

    @model_validator(mode="after")
    def _opens_before_closes(self) -> Self:
        if not self.opens < self.closes:
            raise ValueError("office_hours.opens must be before office_hours.closes")
        return self


class EscalationStep(_Frozen):
    """Who hears about an overdue task, and how many working hours after it fell due."""

    after_overdue_working_hours: Annotated[float, Field(ge=0, le=200)] = 0.0
    to: Literal["assignee", "team_lead"] = "assignee"


DueHours = Annotated[float, Field(gt=0, le=400)]


class DueHoursByKind(_Frozen):
    """Working hours to complete a task of each kind, where it differs from the default."""

    phone_call: DueHours | None = None
    representative: DueHours | None = None
    home_visit: DueHours | None = 21.0
    decision: DueHours | None = 14.0
    reassessment: DueHours | None = None
    manual_delivery: DueHours | None = None


class TaskPolicy(_Frozen):
    """When caseworkers' tasks fall due and how overdue ones escalate. A task nobody completes would otherwise
    hold the case (and the citizen's benefit) still without anyone noticing."""

    due_working_hours: DueHours = 7.0
    """Default: one working day (office hours 08-15) after the task opened."""
    due_working_hours_by_kind: DueHoursByKind = DueHoursByKind()
    escalation: tuple[EscalationStep, ...] = (
        EscalationStep(after_overdue_working_hours=0.0, to="assignee"),
        EscalationStep(after_overdue_working_hours=7.0, to="team_lead"),
    )
    """In order; a task escalates through each step it is still open for."""

    def due_hours(self, kind: TaskKind) -> float:
        hours: float | None = getattr(self.due_working_hours_by_kind, kind.value)
        return self.due_working_hours if hours is None else hours

    @model_validator(mode="after")
    def _escalation_in_order(self) -> Self:
        hours = [s.after_overdue_working_hours for s in self.escalation]
        if hours != sorted(hours):
            raise ValueError("tasks.escalation steps must be in order of after_overdue_working_hours")
        return self


class CalendarPolicy(_Frozen):
    """Non-working days: weekends, the country's public holidays, and extra closed days (MM-DD)."""

    country: str = "DK"
    timezone: str = "Europe/Copenhagen"
    extra_closed_days: tuple[Annotated[str, Field(pattern=r"^\d\d-\d\d$")], ...] = ("06-05", "12-24", "12-31")


class Policy(_Frozen):
    """Everything that is practice rather than statute. Edit `config/policy.toml`, not code."""

    name: str = "copenhagen-default"
    answer_deadline_days: Annotated[int, Field(ge=1, le=60)] = 8
    paper_delivery_working_days: Annotated[int, Field(ge=0, le=10)] = 3
    office_hours: OfficeHours = OfficeHours()
    calendar: CalendarPolicy = CalendarPolicy()
    extended_hearing_for: tuple[str, ...] = ("aktivitetsparat",)
    """Readiness categories that get the contact ladder before a decision."""
    ladder: tuple[LadderStep, ...] = ()
    min_home_visits: Annotated[int, Field(ge=0, le=5)] = 1
    contact_representative_roles: tuple[RepresentativeRole, ...] = (
        RepresentativeRole.mentor,
        RepresentativeRole.stoettekontaktperson,
        RepresentativeRole.social_services,
    )
    sanction_allowed_for: tuple[str, ...] = ("jobparat", "uddannelsesparat", "aktivitetsparat")
    """The 2027 reform removes aktivitetsparat from this list: a policy change, not a code change."""
    require_guidance: bool = True
    deduction_limit_months: Annotated[int, Field(ge=1, le=12)] = 3
    alarm_days_before_limit: Annotated[int, Field(ge=0, le=60)] = 14
    complaint_weeks: Annotated[int, Field(ge=1, le=12)] = 4
    nemsms_max_chars: Annotated[int, Field(ge=20, le=160)] = 150
    deadline_reminder_sms: bool = True
    """A NemSMS the working day before the answer deadline to citizens registered for NemSMS: many never read
    Digital Post (domain.md), and an answer in time spares them a sanction and the jobcenter the ladder."""

    tasks: TaskPolicy = TaskPolicy()
    """Due times of caseworkers' tasks and the escalation of overdue ones (worklist, team lead)."""

    ADDED_LATER: ClassVar[tuple[str, ...]] = ("deadline_reminder_sms", "tasks")
    """Fields added after cases were already running. Workers of the release before forbid unknown fields, so
    these are left out of a serialized policy while at their default: a rolled-back worker can still read the
    input of a case started after the upgrade (README: Changing the workflow safely)."""

    @model_serializer(mode="wrap")
    def _leave_out_defaulted_additions(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for name in self.ADDED_LATER:
            if name in data and getattr(self, name) == type(self).model_fields[name].default:
                del data[name]
        return data

    @model_validator(mode="after")
    def _ladder_can_end_in_home_visit(self) -> Self:
        visits = sum(s.attempts for s in self.ladder if s.kind == LadderStepKind.home_visit)
        if self.extended_hearing_for and visits < self.min_home_visits:
            raise ValueError(
                f"ladder has {visits} home visit attempt(s) but min_home_visits is {self.min_home_visits}"
            )
        return self


class PolicySnapshot(_Frozen):
    """A policy frozen into a case at its start, with the closed days spelled out."""

    policy: Policy
    closed_days: tuple[date, ...]
    """Every non-weekend closed day in the years the case can live (public holidays and extra days)."""


class PolicyError(ValueError):
    """The policy file is missing, unreadable or invalid."""


def load_policy(path: Path | None = None) -> Policy:
    """Read a policy TOML file (default: `config/policy.toml`) into a validated `Policy`.

    A file may say `extends = "policy.toml"` (relative to itself) and hold only what differs from that policy:
    tables are merged key by key, anything else replaces. A what-if written that way (`config/policy-2027.toml`)
    stays right when the policy it changes does.
    """
    path = path or DEFAULT_POLICY_PATH
    raw = _read_extended(path, ())
    try:
        return Policy.model_validate(raw)
    except ValueError as exc:
        raise PolicyError(f"policy file {path} is invalid: {exc}") from None


EXTENDS = "extends"


def _read_extended(path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    resolved = path.resolve()
    if resolved in seen:
        raise PolicyError(f"policy file {path} extends itself (through {', '.join(str(p) for p in seen)})")
    raw = read_toml(path, "policy", PolicyError)
    base_name = raw.pop(EXTENDS, None)
    if base_name is None:
        return raw
    if not isinstance(base_name, str):
        raise PolicyError(f"policy file {path}: '{EXTENDS}' must be a file name")
    return _merged(_read_extended(path.parent / base_name, (*seen, resolved)), raw)


def _merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


def snapshot(policy: Policy, first_year: int, years: int = 3) -> PolicySnapshot:
    """Freeze `policy` with its closed days for `years` calendar years from `first_year`."""
    import holidays  # imported here: workflows get snapshots, never the holidays package

    span = range(first_year, first_year + years)
    public = holidays.country_holidays(policy.calendar.country, years=span)
    closed = set(public.keys())
    for year in span:
        for mmdd in policy.calendar.extra_closed_days:
            month, day = (int(p) for p in mmdd.split("-"))
            closed.add(date(year, month, day))
    return PolicySnapshot(policy=policy, closed_days=tuple(sorted(closed)))
