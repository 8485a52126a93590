"""No personal data in the clear anywhere Temporal, the logs or the error messages keep it (issue 3).

The real system, as `scripts/local-system` runs it but on free ports in a temporary directory: a Temporal dev
server on a SQLite file (WAL pragmas), `python worker.py` (log level DEBUG), the codec server, and `python
starter.py events` feeding generated cases. Six citizens with made-up but realistic CPR numbers, names,
addresses, phone numbers and e-mail addresses, four representatives (names, addresses, phones, e-mails), and
two explanations of the kind citizens give (health, a probation officer). Four cases live on the case clock of a
Wednesday morning (the simulation clock offset, so their hearing letters go out at once whatever the wall clock
says); two are started by the intake on the real clock. Events fed through the intake: the meetings, answers
with explanation texts, a citizen turning up, decisions (one refused by the rules, two made, one a sanction), a
task outcome the update validator refuses, and bad lines (not JSON, a malformed citizen, a meeting id holding
the CPR) so the rejects path runs. The test waits until every clock case has sent its hearing letters and the
decided ones their decision letters.

Searched for, as bytes: each CPR number (10 digits not inside a longer number, DDMMYY-SSSS, DDMMYY SSSS), each
full name and each name part of 6 letters or more, each full address and its street part, each phone number
(as given, without spaces, without +45), each e-mail address, each explanation. Each in UTF-8 (ASCII case
ignored, and the value upper- and lower-cased), JSON ``\\u`` escapes, Latin-1, UTF-16-LE, percent-encoding,
and base64 and URL-safe base64 at all three byte alignments: the form a payload's data takes in history JSON,
so an unencrypted ``json/plain`` payload would be found inside any export.

Searched in, and must hold none: the server's database files while it runs (``temporal.sqlite``, ``-wal``,
``-shm``), again after a clean stop (the dev server leaves its WAL behind), and the database once checkpointed
(the WAL folded in, as a clean close would); the server's log; the worker's log; the codec server's log; the
intake's stdout and stderr of every run; and what the server gives anyone without the key: ``temporal workflow
list -o json`` and ``temporal workflow show -o json`` of every case, and the ids, search attributes and memo
keys `client.list_workflows` returns.

Not searched, because they hold personal data by design: the events files (the input), their rejects files
(bad lines kept verbatim for fixing and re-sending) and the outbox (``<data dir>/outbox.sqlite``: the letters,
SMS and e-mails as sent, the send queue to Digital Post, which must hold names and addresses). They are the
positive control instead: the search must find the values there, in the history decoded through the codec
server, and in a canary case started without encryption (found in the database and, base64-encoded, in its
exported history), so a search that finds nothing has proven it could.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import io
import json
import logging
import random
import sqlite3
import sys
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
import structlog
from google.protobuf.json_format import MessageToJson
from temporalio import activity
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import ActivityEnvironment

from domain.events import MeetingMissed, parse_event
from domain.policy import load_policy
from intake.gateway import CaseGateway
from runtime.keys import KeyRing
from runtime.logging import (
    NOISY_LOGGERS,
    REDACTED,
    REDACTED_EMAIL,
    REDACTED_FIELD,
    REDACTED_PHONE,
    configure_logging,
    redact_text,
)
from runtime.temporal import data_converter
from tests.processes import (
    CASE_CLOCK_ABSENCE,
    PATIENCE,
    CaseClock,
    CodecService,
    DevServer,
    WorkerService,
    run_command,
    system_env,
)
from workflows import search_attributes as sa
from workflows.api import Timeline, workflow_id_for

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="process groups and a POSIX dev server")


# -- what is searched for, and how it would look if it leaked ---------------------------------------------------------

@dataclass(frozen=True)
class Secret:
    """One personal value. ``label`` says whose and what without the value: safe in a failure message."""

    label: str
    value: str = field(repr=False)
    digits: bool = False
    """A number (a CPR in digits only): found only where it is not part of a longer run of digits."""
    derived: bool = False
    """Another spelling of a value the events hold (a name part, a CPR with a dash), not the value as fed in."""

    def masked(self) -> str:
        if self.digits or any(ch.isdigit() for ch in self.value[:2]):
            return f"{self.label} ({len(self.value)} characters)"
        return f"{self.label} ({self.value[:2]}…, {len(self.value)} characters)"


@dataclass(frozen=True)
class Needle:
    secret: Secret
    encoding: str
    pattern: bytes = field(repr=False)
    ignore_case: bool
    """Compared with the haystack's ASCII letters lower-cased (the pattern is lower-cased alike)."""


def _base64_cores(data: bytes) -> Iterable[tuple[str, bytes]]:
    """The base64 characters that ``data`` alone decides, at each of the three byte alignments it may have
    inside a longer base64-encoded blob (the characters at the edges also depend on the neighbours)."""
    for name, encode in (("base64", base64.b64encode), ("url-safe base64", base64.urlsafe_b64encode)):
        for offset in range(3):
            encoded = encode(b"\0" * offset + data).rstrip(b"=")
            start, end = (8 * offset + 5) // 6, (8 * (offset + len(data))) // 6
            core = encoded[start:end]
            if len(core) >= 8:
                yield f"{name} (alignment {offset})", core


def needles(secret: Secret) -> list[Needle]:
    """Every form of ``secret`` the search looks for (see the module's docstring)."""
    found: dict[tuple[bytes, bool], Needle] = {}

    def add(encoding: str, pattern: bytes, ignore_case: bool) -> None:
        pattern = pattern.lower() if ignore_case else pattern
        found.setdefault((pattern, ignore_case), Needle(secret, encoding, pattern, ignore_case))

    for form in dict.fromkeys((secret.value, secret.value.lower(), secret.value.upper())):
        add("UTF-8", form.encode(), True)
        add("JSON \\u escapes", json.dumps(form)[1:-1].encode("ascii"), True)
        add("UTF-16-LE", form.encode("utf-16-le"), True)
        add("percent-encoded", quote(form).encode("ascii"), True)
        add("percent-encoded (+ for spaces)", quote_plus(form).encode("ascii"), True)
        with contextlib.suppress(UnicodeEncodeError):
            add("Latin-1", form.encode("latin-1"), True)
    for encoding, core in _base64_cores(secret.value.encode()):
        add(encoding, core, False)
    return list(found.values())


def _occurs(haystack: bytes, needle: Needle) -> bool:
    start = haystack.find(needle.pattern)
    if not needle.secret.digits or needle.encoding not in ("UTF-8", "Latin-1", "JSON \\u escapes"):
        return start >= 0
    while start >= 0:  # ten digits inside a longer number (a timestamp in nanoseconds, say) are not the CPR
        end = start + len(needle.pattern)
        if not (start and haystack[start - 1:start].isdigit()) and not haystack[end:end + 1].isdigit():
            return True
        start = haystack.find(needle.pattern, start + 1)
    return False


def search(data: bytes, all_needles: Sequence[Needle]) -> list[Needle]:
    """The needles found in ``data``: one per secret and encoding."""
    lowered = data.lower()
    return [n for n in all_needles if _occurs(lowered if n.ignore_case else data, n)]


def search_files(paths: Iterable[Path], all_needles: Sequence[Needle]) -> dict[str, list[Needle]]:
    """File name → what was found in it; files that do not exist are skipped (a -wal after a checkpoint)."""
    hits: dict[str, list[Needle]] = {}
    for path in paths:
        if path.is_file():
            found = search(path.read_bytes(), all_needles)
            if found:
                hits[str(path)] = found
    return hits


def describe(hits: dict[str, list[Needle]], per_file: int = 8) -> str:
    """A failure message naming each file, whose values and in which form: never a value itself."""
    lines = []
    for name, found in hits.items():
        lines.append(f"  {name}: {len(found)} finding(s)")
        lines += [f"    {n.secret.masked()} as {n.encoding}" for n in found[:per_file]]
        if len(found) > per_file:
            lines.append(f"    ... and {len(found) - per_file} more")
    return "\n".join(lines)


def secrets_found(hits: dict[str, list[Needle]]) -> set[str]:
    return {n.secret.label for found in hits.values() for n in found}


def expect(condition: bool, message: str) -> None:
    """``assert`` without pytest's operand reprs (which could hold a leaked value): only ``message`` is shown, and
    that through the log redaction (CPR numbers, e-mail addresses, phone numbers)."""
    if not condition:
        pytest.fail(redact_text(message))


# -- the people and their events --------------------------------------------------------------------------------------

@dataclass
class Person:
    """A made-up citizen or representative: what the events say about them, and the secrets to look for."""

    label: str
    name: str = field(repr=False)
    address: str | None = field(default=None, repr=False)
    phone: str | None = field(default=None, repr=False)
    email: str | None = field(default=None, repr=False)
    cpr: str | None = field(default=None, repr=False)

    def secrets(self) -> list[Secret]:
        found = [Secret(f"{self.label} name", self.name)]
        found += [Secret(f"{self.label} name part {n}", part, derived=True)
                  for n, part in enumerate(self.name.split(), start=1) if len(part) >= 6]
        if self.cpr:
            found += [Secret(f"{self.label} CPR", self.cpr, digits=True),
                      Secret(f"{self.label} CPR (dashed)", f"{self.cpr[:6]}-{self.cpr[6:]}", derived=True),
                      Secret(f"{self.label} CPR (spaced)", f"{self.cpr[:6]} {self.cpr[6:]}", derived=True)]
        if self.address:
            found += [Secret(f"{self.label} address", self.address),
                      Secret(f"{self.label} street", self.address.split(",")[0], derived=True)]
        if self.phone:
            compact = self.phone.replace(" ", "")
            found += [Secret(f"{self.label} phone", self.phone),
                      Secret(f"{self.label} phone (compact)", compact, derived=True),
                      Secret(f"{self.label} phone (national)", compact.removeprefix("+45"), digits=True, derived=True)]
        if self.email:
            found.append(Secret(f"{self.label} e-mail", self.email))
        return found


def fake_cprs(count: int) -> list[str]:
    """Distinct, well-formed, made-up CPR numbers (a real birth date, random sequence digits), new each run."""
    rng = random.SystemRandom()
    made: set[str] = set()
    while len(made) < count:
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(55 * 365))
        made.add(f"{born:%d%m%y}{rng.randrange(1000, 10000)}")
    return sorted(made)


@dataclass
class Scenario:
    """Everything the run feeds in, and every secret it must never find where it does not belong."""

    tag: str
    people: dict[str, Person] = field(default_factory=dict)
    explanations: dict[str, str] = field(default_factory=dict, repr=False)
    rejected_people: dict[str, Person] = field(default_factory=dict)
    """People who appear only on bad lines: the rejects file holds them, nothing else may."""

    def meeting(self, key: str) -> str:
        return f"M-PRIV-{self.tag}-{key}"

    def secrets(self) -> list[Secret]:
        found = [s for p in [*self.people.values(), *self.rejected_people.values()] for s in p.secrets()]
        return found + [Secret(f"explanation {key}", text) for key, text in self.explanations.items()]


def make_scenario() -> Scenario:
    cpr = iter(fake_cprs(8))
    s = Scenario(tag=uuid.uuid4().hex[:8])
    p = s.people
    p["b1"] = Person("citizen B1", "Birthe Kragelund Mortensen", "Tagensvej 214, 3. tv., 2200 København N",
                     "+45 28 41 63 97", "birthe.kragelund@example.dk", next(cpr))
    p["b2"] = Person("citizen B2", "Søren Østergaard Bisgaard", "Ryesgade 58, 2. th., 2100 København Ø",
                     "+45 31 72 95 08", "soeren.bisgaard@example.dk", next(cpr))
    p["b3"] = Person("citizen B3", "Yasmin Al-Haddad Frederiksen", "Rentemestervej 37, 1. mf., 2400 København NV",
                     "+45 42 19 86 53", "yasmin.alhaddad@example.dk", next(cpr))
    p["b3-mentor"] = Person("mentor of B3", "Kirsten Vestergaard Holm", None, "+45 51 64 28 70",
                            "kirsten.vholm@example.dk")
    p["b3-rep"] = Person("representative of B3", "Torben Lindqvist Schaumann", "Amaliegade 22, 1256 København K")
    p["b4"] = Person("citizen B4", "Henrik Dalsgaard Mikkelsen", "Strandvejen 412, st., 2930 Klampenborg",
                     "+45 60 37 14 82", None, next(cpr))
    p["b4-guardian"] = Person("guardian of B4", "Merete Skovbjerg Dahlerup", "Bredgade 61, 2. sal, 1260 København K")
    p["a1"] = Person("citizen A1", "Nadia Gyldenløve Rasmussen", "Jagtvej 155, 4. th., 2200 København N",
                     "+45 26 58 31 49", "nadia.gyldenlove@example.dk", next(cpr))
    p["a2"] = Person("citizen A2", "Preben Kjærsgaard Holtegaard", "Valby Langgade 93, 1. tv., 2500 Valby",
                     "+45 29 84 06 71", None, next(cpr))
    p["a2-contact"] = Person("support worker of A2", "Lone Bækgaard Sønderholm", None, "+45 22 47 90 13",
                             "lone.baekgaard@example.dk")
    s.rejected_people["bad"] = Person("citizen on a malformed line", "Gitte Fjordside Krogsgaard",
                                      "Nordre Fasanvej 188, 2. th., 2000 Frederiksberg", "+45 53 18 72 64",
                                      "gitte.fjordside@example.dk", next(cpr))
    s.rejected_people["in-id"] = Person("citizen whose CPR is in the meeting id", "Allan Tøttrup Vesterlund",
                                        "Hillerødgade 47, 1. th., 2200 København N", "+45 27 93 51 06", None,
                                        next(cpr))
    s.explanations["B2"] = "Jeg lå indlagt på Bispebjerg Hospital med lungebetændelse fra den 1. marts."
    s.explanations["B4"] = "Var til samtale hos Kriminalforsorgen om min prøveløsladelse og glemte mødet."
    s.explanations["A1"] = "Min søn var akut syg, og jeg var på Rigshospitalet med ham hele dagen."
    return s


def citizen(person: Person, readiness: str, digital_post: str, *, nemsms: bool = False,
            representatives: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    data: dict[str, Any] = {"cpr": person.cpr, "name": person.name, "address": person.address,
                            "readiness": readiness, "digital_post": digital_post, "nemsms": nemsms,
                            "guidance_given_on": "2025-11-03", "representatives": list(representatives)}
    if person.phone:
        data["phone"] = person.phone
    if person.email:
        data["email"] = person.email
    return data


def representative(person: Person, role: str) -> dict[str, Any]:
    data: dict[str, Any] = {"role": role, "name": person.name}
    for key in ("address", "phone", "email"):
        if getattr(person, key):
            data[key] = getattr(person, key)
    return data


def meeting_missed(s: Scenario, key: str, at: datetime, who: dict[str, Any], ground: str = "jobsamtale"
                   ) -> dict[str, Any]:
    return {"event_id": f"{s.meeting(key)}-missed", "type": "meeting_missed", "occurred_at": at.isoformat(),
            "meeting_id": s.meeting(key), "case_id": f"K-PRIV-{s.tag}-{key}", "ground": ground, "citizen": who}


def clock_cases(s: Scenario) -> dict[str, dict[str, Any]]:
    """The four cases on the Wednesday case clock, as meeting_missed events."""
    p = s.people
    return {
        "B1": meeting_missed(s, "B1", CASE_CLOCK_ABSENCE, citizen(p["b1"], "jobparat", "registered", nemsms=True)),
        "B2": meeting_missed(s, "B2", CASE_CLOCK_ABSENCE, citizen(p["b2"], "uddannelsesparat", "registered"), "tilbud"),
        "B3": meeting_missed(s, "B3", CASE_CLOCK_ABSENCE, citizen(
            p["b3"], "aktivitetsparat", "never_logged_in", nemsms=True,
            representatives=[representative(p["b3-mentor"], "mentor"),
                             representative(p["b3-rep"], "partsrepraesentant")])),
        "B4": meeting_missed(s, "B4", CASE_CLOCK_ABSENCE, citizen(
            p["b4"], "uddannelsesparat", "exempt", representatives=[representative(p["b4-guardian"], "vaerge")]),
            "raadighedsvurdering"),
    }


def event(s: Scenario, key: str, number: int, kind: str, at: datetime, **fields: Any) -> dict[str, Any]:
    return {"event_id": f"{s.meeting(key)}-{number}", "type": kind, "occurred_at": at.isoformat(),
            "meeting_id": s.meeting(key), **fields}


def first_intake_lines(s: Scenario, now: datetime) -> list[str]:
    """Run 1: two cases on the real clock with follow-ups, and three bad lines."""
    p = s.people
    a1 = meeting_missed(s, "A1", now - timedelta(hours=2), citizen(p["a1"], "jobparat", "registered", nemsms=True))
    a2 = meeting_missed(s, "A2", now - timedelta(hours=3), citizen(
        p["a2"], "aktivitetsparat", "registered",
        representatives=[representative(p["a2-contact"], "stoettekontaktperson")]), "selvbook")
    bad = meeting_missed(s, "BAD", now - timedelta(hours=1), citizen(s.rejected_people["bad"], "jobparat",
                                                                     "registered"))
    bad["citizen"]["readiness"] = "sometimes"  # not a readiness: the line is rejected whole
    in_id = s.rejected_people["in-id"]
    holds_cpr = meeting_missed(s, "X", now - timedelta(hours=1), citizen(in_id, "jobparat", "registered"))
    holds_cpr["meeting_id"] = f"M-{in_id.cpr}"  # refused by the intake: ids are visible to every operator
    lines = [json.dumps(a1, ensure_ascii=False), json.dumps(a2, ensure_ascii=False),
             json.dumps(event(s, "A1", 1, "citizen_responded", now - timedelta(minutes=30), channel="phone",
                              explanation=s.explanations["A1"], reasonable_cause="other"), ensure_ascii=False),
             json.dumps(event(s, "A2", 1, "task_completed", now - timedelta(minutes=20), task="decision",
                              outcome="sanction", by="cw-17"), ensure_ascii=False),
             json.dumps(bad, ensure_ascii=False),
             json.dumps(holds_cpr, ensure_ascii=False),
             '{"event_id": "broken", "type": "meeting_missed", "citizen": {"name": "'
             + s.rejected_people["bad"].name + '", "cpr": "' + str(s.rejected_people["bad"].cpr) + '"']
    return lines


def second_intake_lines(s: Scenario, case_now: datetime) -> list[str]:
    """Run 2: answers, a citizen turning up, a premature decision and a task that is not open."""
    return [json.dumps(e, ensure_ascii=False) for e in (
        event(s, "B1", 1, "task_completed", case_now, task="decision", outcome="sanction", by="cw-17",
              note="Borgeren har ikke svaret."),
        event(s, "B2", 1, "citizen_responded", case_now, channel="letter", explanation=s.explanations["B2"],
              reasonable_cause="hospitalised"),
        event(s, "B3", 1, "task_completed", case_now, task="home_visit", outcome="no_contact", by="cw-17",
              note="Ingen hjemme."),
        event(s, "B4", 1, "citizen_attended", case_now, explanation=s.explanations["B4"]),
    )]


def third_intake_lines(s: Scenario, case_now: datetime) -> list[str]:
    """Run 3: the decisions the rules now allow."""
    return [json.dumps(e, ensure_ascii=False) for e in (
        event(s, "B2", 2, "task_completed", case_now, task="decision", outcome="no_sanction_reasonable_cause",
              by="cw-17", note="Indlæggelse er rimelig grund."),
        event(s, "B4", 2, "task_completed", case_now, task="decision", outcome="sanction", by="cw-17",
              note="Ingen rimelig grund."),
    )]


# -- the system under test -------------------------------------------------------------------------------------------

@dataclass
class System:
    workdir: Path
    server: DevServer
    worker: WorkerService
    codec: CodecService
    env: dict[str, str]
    keys: KeyRing
    task_queue: str
    outputs: list[Path] = field(default_factory=list)
    """The intake's stdout and stderr files, and the CLI's raw exports: must hold no personal data."""

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    async def intake(self, name: str, lines: Sequence[str]) -> tuple[int, str]:
        """`python starter.py events FILE`; its exit code and stderr."""
        events = self.workdir / "input" / f"{name}.jsonl"
        events.parent.mkdir(parents=True, exist_ok=True)
        events.write_text("\n".join(lines) + "\n", encoding="utf-8")
        out, err = self.workdir / "output" / f"{name}.stdout", self.workdir / "output" / f"{name}.stderr"
        self.outputs += [out, err]
        code = await run_command([sys.executable, "starter.py", "events", str(events)], self.env, out, err)
        return code, err.read_text(encoding="utf-8")

    async def cli(self, name: str, *args: str, searched: bool = True) -> str:
        """A `temporal` CLI command against the server; its output is among the outputs searched unless it holds
        personal data by design (``searched=False``: a control)."""
        folder = self.workdir / ("output" if searched else "control")
        out, err = folder / f"{name}.json", folder / f"{name}.stderr"
        if searched:
            self.outputs += [out, err]
        code = await run_command([self.server.cli, *args, "--address", self.server.address], self.env, out, err)
        expect(code == 0, f"temporal {' '.join(args[:2])} failed: {err.read_text(errors='replace')}")
        return out.read_text(encoding="utf-8")


@pytest.fixture
async def system(tmp_path: Path) -> AsyncIterator[System]:
    keys = KeyRing.generate()
    task_queue = f"privacy-{uuid.uuid4().hex[:8]}"
    server = DevServer(tmp_path)
    env = system_env(server, tmp_path / "data", keys.to_spec(), task_queue, MISSED_MEETING_LOG_LEVEL="DEBUG")
    worker = WorkerService(tmp_path, env)
    codec = CodecService(tmp_path, env)
    sys_ = System(tmp_path, server, worker, codec, env, keys, task_queue)
    try:
        await server.start_and_wait()
        await worker.start_and_wait()
        await codec.start_and_wait()
        yield sys_
    finally:
        await worker.astop()
        await codec.astop()
        await server.astop()


async def ui_texts(client: Client, workflow_id: str) -> dict[str, Any]:
    """A case's texts for the Web UI, decoded: static summary and details, current details, and the summaries of
    its activities and timers (user metadata in the history)."""
    handle = client.get_workflow_handle(workflow_id)
    description = await handle.describe()
    metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    summaries: list[str] = []
    async for ev in handle.fetch_history_events():
        if ev.HasField("user_metadata"):
            for part in (ev.user_metadata.summary, ev.user_metadata.details):
                if part.data:
                    [decoded] = await client.data_converter.decode([part], [str])
                    summaries.append(decoded)
    return {"static summary": await description.static_summary() or "",
            "static details": await description.static_details() or "",
            "current details": metadata.current_details, "event summaries": summaries}


def checkpoint(db: Path) -> bool:
    """What closing the database cleanly would have done: fold the WAL into the file. True if the WAL is gone."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    return not Path(f"{db}-wal").exists()


async def timeline(client: Client, workflow_id: str) -> list[str]:
    result = await client.get_workflow_handle(workflow_id).query("timeline", result_type=Timeline)
    return [step["step"] for step in result.steps]


async def until_steps(client: Client, workflow_ids: Iterable[str], *wanted: str) -> None:
    """Until every case's journal holds every wanted step (polled with a generous bound)."""
    pending = set(workflow_ids)
    async with asyncio.timeout(PATIENCE):
        while pending:
            for wid in sorted(pending):
                steps = await timeline(client, wid)
                if all(w in steps for w in wanted):
                    pending.discard(wid)
            if pending:
                await asyncio.sleep(0.5)


# -- the test --------------------------------------------------------------------------------------------------------

async def test_no_personal_data_in_temporal_logs_or_messages(system: System) -> None:
    s = make_scenario()
    all_needles = [n for secret in s.secrets() for n in needles(secret)]
    clock = CaseClock()
    client = await Client.connect(system.server.address, namespace="default",
                                  data_converter=data_converter(system.keys), interceptors=[clock.interceptor()])
    case_now = clock.now

    # run 1 (the intake, real clock) and the clock cases (the intake's gateway, shifted clock) side by side
    gateway = CaseGateway(client, load_policy(), task_queue=system.task_queue)
    cases = clock_cases(s)
    record = system.workdir / "input" / "clock-cases.jsonl"  # not fed to the intake: what the gateway was given
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases.values()), encoding="utf-8")
    for data in cases.values():
        started = parse_event(json.dumps(data, ensure_ascii=False))
        assert isinstance(started, MeetingMissed)
        assert (await gateway.start_case(started)).kind == "started"
    code, err = await system.intake("run1", first_intake_lines(s, datetime.now(UTC)))
    expect(code == 2, f"run 1: some lines must be rejected (exit 2), got {code}: {err}")
    expect("line 4: decision refused:" in err and "line 5: citizen.readiness" in err
           and "line 6: meeting_id or case_id contains the citizen's CPR number" in err
           and "line 7: not JSON" in err, f"run 1 must report lines 4 to 7 as rejected: {err}")

    clock_ids = [workflow_id_for(s.meeting(k)) for k in cases]
    await until_steps(client, clock_ids, "hearing_letter_sent", "deadline_set")

    code, err = await system.intake("run2", second_intake_lines(s, case_now()))
    expect(code == 2, f"run 2: the premature decision and the task outcome must be refused, got {code}: {err}")
    expect("line 1: decision refused: the answer deadline has not passed" in err
           and "line 3: no home_visit task is open for this case" in err, f"run 2's refusals: {err}")
    await until_steps(client, [workflow_id_for(s.meeting("B2")), workflow_id_for(s.meeting("B4"))],
                      "decision_task_opened")
    code, err = await system.intake("run3", third_intake_lines(s, case_now()))
    expect(code == 0, f"run 3: both decisions are lawful now, got {code}: {err}")
    await until_steps(client, [workflow_id_for(s.meeting("B2")), workflow_id_for(s.meeting("B4"))],
                      "decision_made", "decision_letter_sent")
    await until_steps(client, [workflow_id_for(s.meeting("B4"))], "deduction_registered")
    real_clock_ids = [workflow_id_for(s.meeting(k)) for k in ("A1", "A2")]
    await until_steps(client, real_clock_ids[:1], "response_received")  # on the real clock, whatever the hour
    await until_steps(client, real_clock_ids[1:], "decision_rejected")

    # what the server shows anyone without the key: ids, search attributes, memo keys, every history event
    listed = [w async for w in client.list_workflows()]  # a fresh server: these cases are all it has
    ids = sorted(w.id for w in listed)
    # the line with the CPR in its meeting id started nothing
    expect(ids == sorted(clock_ids + real_clock_ids), f"the server holds other workflows than the cases: {ids}")
    visible = json.dumps([{"id": w.id, "type": w.workflow_type, "task_queue": w.task_queue,
                           "search_attributes": {p.key.name: str(p.value) for p in w.typed_search_attributes},
                           "raw_search_attributes": MessageToJson(w.raw_info.search_attributes),
                           "memo_keys": list(w.raw_info.memo.fields.keys())} for w in listed], ensure_ascii=False)
    visible_path = system.workdir / "output" / "list_workflows.json"
    visible_path.write_text(visible, encoding="utf-8")
    system.outputs.append(visible_path)
    expect(all(w.typed_search_attributes.get(sa.CASE_ID) for w in listed), f"CaseId is set on every case: {visible}")
    await system.cli("workflow-list", "workflow", "list", "--output", "json")
    exports = {wid: await system.cli(f"show-{wid}", "workflow", "show", "--workflow-id", wid, "--output", "json")
               for wid in clock_ids + real_clock_ids}

    # what the Web UI shows every operator once decoded, and sends back to its server as /render?content=... to
    # have the Markdown rendered: summaries, details and current details must hold no personal data either
    texts = {wid: await ui_texts(client, wid) for wid in clock_ids + real_clock_ids}
    ui_texts_path = system.workdir / "output" / "ui-texts.json"
    ui_texts_path.write_text(json.dumps(texts, ensure_ascii=False, indent=1), encoding="utf-8")
    system.outputs.append(ui_texts_path)
    b2 = texts[workflow_id_for(s.meeting("B2"))]
    expect(f"Case K-PRIV-{s.tag}-B2" in b2["static summary"] and "**Stage:**" in b2["current details"]
           and any("letter" in t for t in b2["event summaries"]), "the UI texts are there, decoded")

    # positive control 1: a canary case started WITHOUT encryption is found in the database and its export
    canary = Secret("canary (unencrypted on purpose)", f"Kanariefugl Ulrikkenborg {s.tag}")
    plain = await Client.connect(system.server.address, namespace="default",
                                 data_converter=pydantic_data_converter)
    canary_id = f"privacy-canary-{s.tag}"
    await plain.start_workflow("MissedMeetingWorkflow", {"note": canary.value}, id=canary_id,
                               task_queue=f"no-worker-{s.tag}", id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                               id_conflict_policy=WorkflowIDConflictPolicy.FAIL)
    canary_export = await system.cli("canary-show", "workflow", "show", "--workflow-id", canary_id, "--output", "json",
                                     searched=False)
    canary_needles = needles(canary)
    canary_in_export = search(canary_export.encode(), canary_needles)
    assert any(n.encoding.startswith("base64") for n in canary_in_export), \
        "the search must find an unencrypted payload's value base64-encoded in `temporal workflow show -o json`"
    canary_in_db = search_files(system.server.db_files(), canary_needles)
    assert canary_in_db, "the search must find an unencrypted payload's value in the live database files"
    await plain.get_workflow_handle(canary_id).terminate(reason="privacy test canary")

    # positive control 2: the decoded history (through the codec server, as an operator with the key sees it)
    decoded = await system.cli("decoded-B2", "workflow", "show", "--workflow-id", workflow_id_for(s.meeting("B2")),
                               "--output", "json", "--codec-endpoint", system.codec.url, searched=False)
    decoded_labels = {n.secret.label for n in search(decoded.encode(), all_needles)}
    assert {"citizen B2 name", "citizen B2 CPR", "citizen B2 address", "explanation B2"} <= decoded_labels, \
        "decoded through the codec server, the history must show the case's personal data"

    # the live database, WAL and shared memory, searched while the server still runs
    leaks = {f"while running: {name}": found
             for name, found in search_files(system.server.db_files(), all_needles).items()}

    # a clean stop: the worker drains, then the server. It exits 0 but leaves its WAL as it was (the dev server
    # does not checkpoint on SIGTERM or SIGINT), so the files are searched as left, and again once checkpointed
    expect(await system.worker.astop() == 0, f"the worker stops cleanly:\n{system.worker.log_tail()}")
    assert await system.codec.astop() is not None
    expect(await system.server.astop() == 0, f"the server stops cleanly:\n{system.server.log_tail()}")
    leaks |= {f"stopped: {name}": found for name, found in search_files(system.server.db_files(), all_needles).items()}
    assert checkpoint(system.server.db_path), "the checkpoint folds the WAL into the database and removes it"
    assert search_files([system.server.db_path], canary_needles), \
        "once checkpointed, the database file itself must hold the canary (the search sees the stored data)"

    # everything the system wrote, except what holds personal data by design
    searched = [system.server.db_path, system.server.log_path, system.worker.log_path, system.codec.log_path,
                *system.outputs]
    by_design = {p for p in system.data_dir.rglob("*") if p.name.startswith("outbox.sqlite")}
    searched += sorted(p for p in system.data_dir.rglob("*") if p.is_file() and p not in by_design)
    assert system.worker.log_path.stat().st_size > 0 and system.server.log_path.stat().st_size > 0
    delivered = [line for line in map(json.loads, system.worker.log_bytes().splitlines())
                 if line.get("event") == "delivered"]
    expect(bool(delivered) and all(line.get("run_id") and line.get("activity_type") and line.get("workflow_id")
                                   for line in delivered), "the worker's activity lines carry their Temporal context")
    assert len([p for p in system.outputs if p.suffix == ".stderr" and "run" in p.name]) == 3
    leaks |= search_files(searched, all_needles)
    if leaks:  # pytest.fail, not assert: an assertion would print the findings' repr next to the message
        pytest.fail(f"personal data where it must never be:\n{describe(leaks)}", pytrace=False)
    sealed = base64.b64encode(b"binary/encrypted").decode().rstrip("=")
    expect(all(sealed in raw or "binary/encrypted" in raw for raw in exports.values()), "payloads are sealed")

    # positive control 3: the values are where they belong, so the search could have found them anywhere
    rejects = sorted((system.workdir / "input").glob("*.rejects.jsonl"))
    inputs = sorted(set((system.workdir / "input").glob("*.jsonl")) - set(rejects))
    fed = secrets_found(search_files(inputs, all_needles))
    assert {sec.label for sec in s.secrets() if not sec.derived} - fed == set(), "every value was fed in as is"
    rejected = secrets_found(search_files(rejects, all_needles))
    assert {"citizen on a malformed line CPR", "citizen on a malformed line name",
            "citizen whose CPR is in the meeting id CPR"} <= rejected, "the rejects file keeps bad lines verbatim"
    outbox = secrets_found(search_files(sorted(by_design), all_needles))
    assert {"citizen B1 name", "citizen B4 address", "representative of B3 address", "guardian of B4 name",
            "explanation B2"} <= outbox, "the outbox holds the letters as sent, names and addresses included"


# -- the search itself -----------------------------------------------------------------------------------------------

def test_the_search_finds_every_form_and_never_prints_the_value(tmp_path: Path) -> None:
    cpr = fake_cprs(1)[0]
    person = Person("citizen T", "Jørgen Ærbøl Testesen", "Æblevej 7, 2. th., 8000 Aarhus C", "+45 12 34 56 78",
                    "jorgen@example.dk", cpr)
    all_needles = [n for secret in person.secrets() for n in needles(secret)]
    payload = json.dumps({"citizen": {"cpr": cpr, "name": person.name}}, ensure_ascii=False).encode()
    planted = {
        "plain.log": f"letter to {person.name}".encode(),
        "escaped.json": json.dumps({"to": person.address}).encode(),  # ensure_ascii: \u00c6blevej
        "history.json": json.dumps({"data": base64.b64encode(b'{"x":1,' + payload).decode()}).encode(),
        "dashed.txt": f"id {cpr[:6]}-{cpr[6:]}.".encode(),
        "upper.txt": person.name.upper().encode("latin-1"),
        "url.log": f"GET /lookup?email={quote(str(person.email))} 200".encode(),
        "inside-a-number.txt": f"ts=9{cpr}9".encode(),
        "clean.txt": b"nothing to see: 2026-03-04T10:00:00+01:00 M-1 K-2026-0001",
    }
    for name, data in planted.items():
        (tmp_path / name).write_bytes(data)
    hits = search_files(sorted(tmp_path.iterdir()), all_needles)
    found = {Path(name).name: {n.secret.label for n in ns} for name, ns in hits.items()}
    assert "citizen T name" in found["plain.log"]
    assert "citizen T address" in found["escaped.json"]
    assert {"citizen T CPR", "citizen T name"} <= found["history.json"]
    assert "citizen T CPR (dashed)" in found["dashed.txt"]
    assert "citizen T name" in found["upper.txt"]
    assert "citizen T e-mail" in found["url.log"]
    assert "inside-a-number.txt" not in found and "clean.txt" not in found
    message = describe(hits)
    expect(cpr not in message and cpr[:6] not in message and person.name not in message
           and str(person.address) not in message and str(person.email) not in message,
           "a finding is described without its value")


def test_cases_feed_every_personal_field_the_event_format_has() -> None:
    """The generated events carry every personal field of domain/events.py, so none goes unsearched."""
    s = make_scenario()
    lines = [json.dumps(e, ensure_ascii=False) for e in clock_cases(s).values()]
    lines += first_intake_lines(s, datetime.now(UTC))[:2]
    keys: set[str] = set()
    for line in lines:
        parsed = parse_event(line)
        assert isinstance(parsed, MeetingMissed)
        keys |= {k for k, v in parsed.citizen.model_dump().items() if v}
        for rep in parsed.citizen.representatives:
            keys |= {f"representative.{k}" for k, v in rep.model_dump().items() if v}
    assert {"cpr", "name", "address", "phone", "email", "representative.name", "representative.address",
            "representative.phone", "representative.email"} <= keys


# -- the log's last line of defence ----------------------------------------------------------------------------------

@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """Logging configured into a buffer; the root logger and structlog put back afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    saved_levels = {name: logging.getLogger(name).level for name in NOISY_LOGGERS}
    stream = io.StringIO()
    configure_logging("DEBUG", stream=stream, core_logs=False)
    yield stream
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved_handlers:
        root.addHandler(handler)
    root.setLevel(saved_level)
    for name, level in saved_levels.items():
        logging.getLogger(name).setLevel(level)
    logging.captureWarnings(False)
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


def test_redaction_takes_emails_phones_and_personal_fields(log_stream: io.StringIO) -> None:
    cpr = fake_cprs(1)[0]
    structlog.get_logger("cases").warning(
        "copy for vibeke.testrup@example.dk, call +45 61 72 83 94 or 004561728394",
        name="Vibeke Testrup", citizen={"address": "Prøvevej 9", "cpr": cpr, "readiness": "jobparat"},
        explanation="Jeg var syg", representatives=[{"email": "a.b@example.dk", "role": "mentor"}], count=8,
        meeting_id="M-2026-0042", at="2026-03-04T10:00:00+01:00", phone=None, address="127.0.0.1:7233",
    )
    text = log_stream.getvalue()
    for value in ("vibeke.testrup", "61 72", "61728394", "Vibeke", "Prøvevej", cpr, "syg", "a.b@"):
        expect(value not in text, "a personal value got into the log line")
    line = json.loads(text)
    assert line["event"] == f"copy for {REDACTED_EMAIL}, call {REDACTED_PHONE} or {REDACTED_PHONE}"
    assert line["name"] == line["explanation"] == line["citizen"]["address"] == REDACTED_FIELD
    assert line["citizen"]["cpr"] == REDACTED and line["citizen"]["readiness"] == "jobparat"
    assert line["representatives"] == [{"email": REDACTED_EMAIL, "role": "mentor"}]
    assert (line["count"], line["meeting_id"], line["at"], line["phone"], line["address"]) == (
        8, "M-2026-0042", "2026-03-04T10:00:00+01:00", None, "127.0.0.1:7233")  # a network address is kept


def test_loggers_that_print_urls_are_quiet(log_stream: io.StringIO) -> None:
    for name in ("aiohttp.access", "aiohttp.client", "urllib3.connectionpool", "httpx", "requests"):
        logging.getLogger(name).info('127.0.0.1 "GET /lookup?cpr=... HTTP/1.1" 200')
    logging.getLogger("aiohttp.access").warning("still shown: a warning")
    assert [json.loads(line)["event"] for line in log_stream.getvalue().splitlines()] == ["still shown: a warning"]


async def test_activity_lines_carry_their_temporal_context(log_stream: io.StringIO) -> None:
    @activity.defn(name="send_letter")
    async def send_letter() -> None:
        structlog.get_logger("missed_meeting.activities").bind(workflow_id="explicit").info("delivered")
        logging.getLogger("some.library").info("plain stdlib line")

    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, workflow_id="missed-meeting-M-1", activity_type="send_letter")
    await env.run(send_letter)
    first, second = (json.loads(line) for line in log_stream.getvalue().splitlines())
    assert first["workflow_id"] == "explicit"  # what the caller bound wins
    assert second["workflow_id"] == "missed-meeting-M-1"
    for line in (first, second):
        assert line["run_id"] == env.info.workflow_run_id and line["activity_type"] == "send_letter"
        assert line["activity_id"] == env.info.activity_id and line["attempt"] == env.info.attempt
