"""What the activities count: sent messages once (a retry that finds it delivered counts nothing), a decision
once per case (not once per copy), and nothing outside an activity."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

from temporalio.runtime import MetricBuffer, Runtime, TelemetryConfig
from temporalio.testing import ActivityEnvironment

from activities.case_activities import CaseActivities
from activities.channels import OutboxChannels
from activities.metrics import DECISIONS, LETTERS
from activities.models import Letter
from activities.outbox import Outbox
from domain.events import Citizen
from tests.activity_builders import WF, hearing_letter
from tests.factories import citizen_data


class Recorder:
    """An activity environment whose metric meter writes to a buffer the test can read."""

    def __init__(self) -> None:
        self.buffer = MetricBuffer(1000)
        self.runtime = Runtime(telemetry=TelemetryConfig(metrics=self.buffer))
        self.env = ActivityEnvironment()
        self.env.metric_meter = self.runtime.metric_meter
        self.counts: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()

    def read(self) -> Counter[tuple[str, tuple[tuple[str, str], ...]]]:
        for update in self.buffer.retrieve_updates():
            labels = tuple(sorted((k, str(v)) for k, v in update.attributes.items() if k in ("kind", "channel",
                                                                                           "outcome", "recipient")))
            self.counts[(update.metric.name, labels)] += int(update.value)
        return self.counts


def citizen(digital_post: str = "registered") -> Citizen:
    return Citizen.model_validate(citizen_data(digital_post=digital_post))


def decision_letter(person: Citizen, channel: str) -> Letter:
    return hearing_letter(person, channel, kind="decision", decision="sanction", deduction_from=date(2026, 3, 2),
                          deduction_to=date(2026, 3, 2), deadline=date(2026, 3, 11),
                          release_on=date(2026, 3, 13),
                          idempotency_key=f"{WF}/decision_letter/citizen/{channel}")


async def test_a_retried_delivery_is_counted_once(tmp_path: Path) -> None:
    recorder = Recorder()
    acts = CaseActivities(OutboxChannels(Outbox(tmp_path / "outbox.sqlite")))
    letter = hearing_letter(citizen())
    first = await recorder.env.run(acts.send_letter, letter)
    again = await recorder.env.run(acts.send_letter, letter)
    assert (first.duplicate, again.duplicate) == (False, True)
    key = (LETTERS, (("channel", "digital_post"), ("kind", "hearing"), ("recipient", "citizen")))
    assert recorder.read()[key] == 1


async def test_a_decision_sent_by_post_and_digital_post_counts_as_one_decision(tmp_path: Path) -> None:
    recorder = Recorder()
    acts = CaseActivities(OutboxChannels(Outbox(tmp_path / "outbox.sqlite")))
    person = citizen("never_logged_in")
    for channel in ("digital_post", "physical_post"):
        await recorder.env.run(acts.send_letter, decision_letter(person, channel))
    counts = recorder.read()
    assert counts[(DECISIONS, (("kind", "decision"), ("outcome", "sanction")))] == 1
    assert sum(n for (name, _), n in counts.items() if name == LETTERS) == 2


async def test_a_decision_by_paper_only_is_counted(tmp_path: Path) -> None:
    recorder = Recorder()
    acts = CaseActivities(OutboxChannels(Outbox(tmp_path / "outbox.sqlite")))
    await recorder.env.run(acts.send_letter, decision_letter(citizen("exempt"), "physical_post"))
    assert recorder.read()[(DECISIONS, (("kind", "decision"), ("outcome", "sanction")))] == 1


async def test_outside_an_activity_nothing_is_recorded(tmp_path: Path) -> None:
    acts = CaseActivities(OutboxChannels(Outbox(tmp_path / "outbox.sqlite")))
    receipt = await acts.send_letter(hearing_letter(citizen()))  # no activity context: must not raise
    assert receipt.duplicate is False
