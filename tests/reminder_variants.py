"""The deadline reminder as a careless and as a later version would write it, for the golden-history tests.

`ReminderWithoutPatch` is the same change as in workflows/missed_meeting.py without `workflow.patched`: every
case takes the new path, so histories recorded before the change must fail to replay on it. It is also what
the code looks like once the patch is finally removed. `ReminderPatchDeprecated` is the middle step,
`workflow.deprecate_patch`, once no case from before the change is left.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.api import CaseInput, CaseResult
from workflows.missed_meeting import DEADLINE_REMINDER_PATCH, MissedMeetingWorkflow


@workflow.defn(name="MissedMeetingWorkflow")
class ReminderWithoutPatch(MissedMeetingWorkflow):
    @workflow.run
    async def run(self, inp: CaseInput) -> CaseResult:
        return await super().run(inp)

    def _deadline_reminder_patched(self) -> bool:
        return True


@workflow.defn(name="MissedMeetingWorkflow")
class ReminderPatchDeprecated(MissedMeetingWorkflow):
    @workflow.run
    async def run(self, inp: CaseInput) -> CaseResult:
        return await super().run(inp)

    def _deadline_reminder_patched(self) -> bool:
        workflow.deprecate_patch(DEADLINE_REMINDER_PATCH)
        return True
