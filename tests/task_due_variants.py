"""Task due times (and so escalation) as a careless change would write them: without `workflow.patched`, every
case takes the new path, so a history recorded before the change with a task open past its new due time must
fail to replay on it (tests/test_golden_histories.py)."""

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
