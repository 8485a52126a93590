"""A careless change to the case workflow, for the replay test: same type name, different first command."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.api import CaseInput


@workflow.defn(name="MissedMeetingWorkflow")
class ChangedWorkflow:
    """Starts with a timer where the real workflow upserts search attributes and waits for the letter."""

    @workflow.run
    async def run(self, inp: CaseInput) -> None:
        await workflow.sleep(timedelta(hours=1))
