"""Later workflow changes as a careless engineer would write them, without `workflow.patched`: every case takes
the new path, so histories recorded before the change must fail to replay (tests/test_golden_histories.py).
Task due times (and so escalation), and publishing search attributes once per rest."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.api import CaseInput, CaseResult
from workflows.missed_meeting import MissedMeetingWorkflow


@workflow.defn(name="MissedMeetingWorkflow")
class TaskDueWithoutPatch(MissedMeetingWorkflow):
    @workflow.run
    async def run(self, inp: CaseInput) -> CaseResult:
        return await super().run(inp)

    def _task_due_patched(self) -> bool:
        return True


@workflow.defn(name="MissedMeetingWorkflow")
class OneUpsertWithoutPatch(MissedMeetingWorkflow):
    """Publishing once per rest, for every case: histories from before it upserted after each step as well."""

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseResult:
        return await super().run(inp)

    def _publish_after_each_step(self) -> bool:
        return False
