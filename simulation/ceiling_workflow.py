"""The ceiling probe's workflow, alone in its module so the sandbox imports nothing else with it."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

TIMERS = 4


@workflow.defn(name="CeilingWorkflow")
class CeilingWorkflow:
    """Four one-day timers and nothing else: the least work a durable multi-day case can be."""

    @workflow.run
    async def run(self, n: int) -> int:
        for _ in range(TIMERS):
            await workflow.sleep(timedelta(days=1))
        return n
