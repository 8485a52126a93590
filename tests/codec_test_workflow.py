"""A tiny workflow for tests/test_codec.py: carries a citizen's CPR through input, activity, failure, result.

Kept in its own module so the workflow sandbox imports only this and not the test module with pytest.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

_TIMEOUT = timedelta(seconds=10)


class Citizen(BaseModel):
    cpr: str
    name: str


class Greeting(BaseModel):
    text: str
    failure_seen: str


@activity.defn
async def greet(citizen: Citizen) -> Greeting:
    return Greeting(text=f"Kære {citizen.name} ({citizen.cpr})", failure_seen="")


@activity.defn
async def refuse(citizen: Citizen) -> Greeting:
    raise ApplicationError(f"refused citizen {citizen.cpr}", non_retryable=True)


@workflow.defn
class CodecTestWorkflow:
    """Greets, then provokes an activity failure whose message holds the CPR, and returns both."""

    @workflow.run
    async def run(self, citizen: Citizen) -> Greeting:
        greeting = await workflow.execute_activity(greet, citizen, start_to_close_timeout=_TIMEOUT)
        try:
            await workflow.execute_activity(
                refuse, citizen, start_to_close_timeout=_TIMEOUT, retry_policy=RetryPolicy(maximum_attempts=1)
            )
        except ActivityError as err:
            cause = err.cause
            greeting.failure_seen = cause.message if isinstance(cause, ApplicationError) else str(err)
        return greeting
