"""Jobcenter events: the contract's JSON-lines format, validated strictly.

Every model forbids unknown fields so that a typo in a jobcenter system's export is a clear rejection, not a
silently ignored value. The CPR number is never part of a model's repr, and `parse_event` builds its error
messages from field locations only, so a rejected line can be reported without echoing personal data.
"""

from __future__ import annotations

import json
import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

MEETING_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,99}$"
"""Meeting ids name workflows, so they are restricted to characters that are safe in ids and URLs."""


class Ground(StrEnum):
    """The legal ground of the absence (LAS § 36 offer, § 37 meeting, Selvbook)."""

    jobsamtale = "jobsamtale"
    raadighedsvurdering = "raadighedsvurdering"
    tilbud = "tilbud"
    selvbook = "selvbook"


class Readiness(StrEnum):
    """Visitation category; decides between ordinary and extended hearing (*udvidet partshøring*)."""

    jobparat = "jobparat"
    uddannelsesparat = "uddannelsesparat"
    aktivitetsparat = "aktivitetsparat"


class DigitalPostStatus(StrEnum):
    """How the citizen is reached in writing: Digital Post, paper if exempt (*fritaget*), or both."""

    registered = "registered"
    exempt = "exempt"
    never_logged_in = "never_logged_in"


class RepresentativeRole(StrEnum):
    mentor = "mentor"
    stoettekontaktperson = "stoettekontaktperson"
    social_services = "social_services"
    family = "family"
    partsrepraesentant = "partsrepraesentant"
    vaerge = "vaerge"


class ResponseChannel(StrEnum):
    letter = "letter"
    digital_post = "digital_post"
    phone = "phone"
    email = "email"
    in_person = "in_person"


class TaskKind(StrEnum):
    """Work a caseworker does and reports back: calls, visits, asking a representative, deciding."""

    phone_call = "phone_call"
    representative = "representative"
    home_visit = "home_visit"
    decision = "decision"
    reassessment = "reassessment"
    manual_delivery = "manual_delivery"
    """A letter the channel refused for good (an invalid recipient, say): a caseworker delivers it by hand."""


class Decision(StrEnum):
    sanction = "sanction"
    no_sanction_reasonable_cause = "no_sanction_reasonable_cause"
    no_sanction_other = "no_sanction_other"


TASK_OUTCOMES: dict[TaskKind, tuple[str, ...]] = {
    TaskKind.phone_call: ("no_answer", "voicemail", "reached"),
    TaskKind.representative: ("no_contact", "contact_made"),
    TaskKind.home_visit: ("no_contact", "contact_made"),
    TaskKind.decision: tuple(d.value for d in Decision),
    TaskKind.reassessment: ("uphold", "annul"),
    TaskKind.manual_delivery: ("delivered",),
}
"""The outcomes the contract allows for each task kind."""

CONTACT_OUTCOMES = frozenset({"reached", "contact_made"})
"""Task outcomes that mean personal contact with the citizen was made."""

ShortText = Annotated[str, Field(min_length=1, max_length=200)]
LongText = Annotated[str, Field(max_length=4000)]
Phone = Annotated[str, Field(pattern=r"^\+?[0-9 ]{6,20}$")]
Email = Annotated[str, Field(pattern=r"^[^@\s]{1,64}@[^@\s]{1,190}\.[A-Za-z]{2,24}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Representative(_Strict):
    """Someone who gets copies of letters and may be asked to reach the citizen."""

    role: RepresentativeRole
    name: ShortText = Field(repr=False)
    phone: Phone | None = Field(default=None, repr=False)
    email: Email | None = Field(default=None, repr=False)
    address: ShortText | None = Field(default=None, repr=False)
    """Postal address for paper copies; without it a copy goes by e-mail, else to a caseworker to forward."""


class Citizen(_Strict):
    """The citizen as the jobcenter system knows them. Personal data: only ever in encrypted payloads."""

    cpr: str = Field(pattern=r"^[0-9]{10}$", repr=False)
    name: ShortText = Field(repr=False)
    address: ShortText = Field(repr=False)
    readiness: Readiness
    digital_post: DigitalPostStatus
    nemsms: bool = False
    phone: Phone | None = Field(default=None, repr=False)
    email: Email | None = Field(default=None, repr=False)
    guidance_given_on: date | None = None
    """The day the citizen got written guidance on duties and sanctions (LAS § 35 stk. 1)."""
    representatives: list[Representative] = Field(default_factory=list, max_length=20)


class _EventBase(_Strict):
    event_id: ShortText
    occurred_at: AwareDatetime
    meeting_id: str = Field(pattern=MEETING_ID_PATTERN)


class MeetingMissed(_EventBase):
    """Starts a case: a missed meeting, offer absence or missed self-booking."""

    type: Literal["meeting_missed"]
    case_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/\-]{0,99}$")
    ground: Ground
    citizen: Citizen


class CitizenResponded(_EventBase):
    """The citizen answered the hearing (or later, with new information)."""

    type: Literal["citizen_responded"]
    channel: ResponseChannel
    explanation: LongText | None = None
    reasonable_cause: Annotated[str, Field(pattern=r"^[a-z_]{1,40}$")] | None = None


class CitizenAttended(_EventBase):
    """The citizen turned up at the jobcenter or at the offer: personal contact."""

    type: Literal["citizen_attended"]
    explanation: LongText | None = None


class ContactRestored(_EventBase):
    """The citizen is available again; ends a running deduction (LAS § 37)."""

    type: Literal["contact_restored"]


class TaskCompleted(_EventBase):
    """A caseworker reports the outcome of a task the case opened."""

    type: Literal["task_completed"]
    task: TaskKind
    outcome: str
    by: ShortText | None = None
    note: LongText | None = None

    @model_validator(mode="after")
    def _outcome_fits_task(self) -> TaskCompleted:
        allowed = TASK_OUTCOMES[self.task]
        if self.outcome not in allowed:
            raise ValueError(f"outcome is not one of {', '.join(allowed)} for task {self.task}")
        return self


class TaskAssigned(_EventBase):
    """A task is given to a caseworker (or taken: claimed), or handed back to the team (`assignee` null).

    `assignee` is an employee's user id (initials, AD account), never a citizen's data: it becomes a search
    attribute so a caseworker can filter the Web UI and the worklist for their own tasks."""

    type: Literal["task_assigned"]
    task: TaskKind
    assignee: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@\-]{0,63}$")] | None
    by: ShortText | None = None


JobcenterEvent = Annotated[
    MeetingMissed | CitizenResponded | CitizenAttended | ContactRestored | TaskCompleted | TaskAssigned,
    Field(discriminator="type"),
]
CaseEvent = CitizenResponded | CitizenAttended | ContactRestored
"""Events from the citizen's side that feed a running case."""


class _Envelope(BaseModel):
    event: JobcenterEvent


class EventError(ValueError):
    """A line that is not a valid event. The message names fields, never their values."""


def parse_event(
    line: str,
) -> MeetingMissed | CitizenResponded | CitizenAttended | ContactRestored | TaskCompleted | TaskAssigned:
    """Parse one JSON line into an event, or raise `EventError` with a reason safe to print and log."""
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise EventError(f"not JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(raw, dict):
        raise EventError("not a JSON object")
    kind = raw.get("type")
    if not isinstance(kind, str):
        raise EventError("missing field 'type'")
    try:
        return _Envelope.model_validate({"event": raw}).event
    except ValidationError as exc:
        raise EventError(describe_validation_error(exc)) from None


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
FIELD_NAME_LIMIT = 60


def _field_name(part: object) -> str:
    """A field name as the input spelled it (an unknown field's name is input too), made safe for a one-line
    report: control and line-break characters escaped, so no name can start a forged line; long names cut."""
    name = _UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", str(part))
    return name if len(name) <= FIELD_NAME_LIMIT else f"{name[:FIELD_NAME_LIMIT]}..."


def describe_validation_error(exc: ValidationError, skip_prefix: int = 1) -> str:
    """Summarise a pydantic error by field path and message, without the offending input values."""
    parts = []
    for err in exc.errors(include_input=False, include_url=False, include_context=False):
        loc = [_field_name(p) for p in err["loc"][skip_prefix:]]
        # the discriminated union puts the type tag in the path; it says nothing to a reader
        if loc and loc[0] in {"meeting_missed", "citizen_responded", "citizen_attended",
                              "contact_restored", "task_completed", "task_assigned"}:
            loc = loc[1:]
        where = ".".join(loc) or "event"
        msg = err["msg"]
        if err["type"] == "union_tag_invalid":
            where, msg = "type", "unknown event type"
        elif err["type"] == "missing":
            msg = "missing field"
        elif err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] == "string_pattern_mismatch":
            msg = "malformed value"
        parts.append(f"{where}: {msg}")
    return "; ".join(parts)
