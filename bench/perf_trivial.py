"""The ceiling's workflow: k activities, t timers, then an optional long wait, and nothing else.

Every figure the benchmark prints stands beside what this workflow costs on the same server in the same run:
it is the least work Temporal can do for a workflow of that shape (no state, no search attributes, tiny
payloads), so the ratio says what the case workflow adds on top. It runs on the same worker, through the same
`make_worker` (sandbox, settings, data converter) as the case workflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow

TRIVIAL_WORKFLOW = "PerfTrivialWorkflow"
STEP_TIMEOUT = timedelta(seconds=30)


@dataclass(frozen=True)
class TrivialInput:
    """The shape to mirror: `activities` one after another, `timers` sleeps, then `wait_seconds` of waiting
    (the case's answer deadline: a benchmark counts the workflow done once that timer has started)."""

    activities: int = 3
    timers: int = 1
    timer_seconds: float = 1.0
    wait_seconds: float = 0.0


@activity.defn(name="perf_trivial_step")
async def trivial_step(number: int) -> int:
    """Does nothing: the activity round trip itself is what the ceiling measures."""
    return number


@workflow.defn(name=TRIVIAL_WORKFLOW)
class TrivialWorkflow:
    """No state beyond a counter: the least a workflow of this shape can cost."""

    @workflow.run
    async def run(self, inp: TrivialInput) -> int:
        done = 0
        for number in range(inp.activities):
            done += await workflow.execute_activity(trivial_step, number, start_to_close_timeout=STEP_TIMEOUT)
        for _ in range(inp.timers):
            await workflow.sleep(timedelta(seconds=inp.timer_seconds))
        if inp.wait_seconds > 0:
            await workflow.sleep(timedelta(seconds=inp.wait_seconds))
        return done


def history_events(inp: TrivialInput, *, completed: bool) -> int:
    """Events in a trivial history: 4 to start, 6 per activity, 5 per timer, the final wait's TimerStarted
    (plus 5 more once it fires), and the completion. Used to build trivial histories of a given length."""
    events = 4 + 6 * inp.activities + 5 * inp.timers
    if inp.wait_seconds > 0:
        events += 1 + (4 if completed else 0)
    return events + (1 if completed else 0)


def shape_for_length(events: int) -> TrivialInput:
    """A completed trivial workflow whose history has `events` events, or as close as its shape allows
    (activities fill in steps of 6, a timer makes up a remainder of 5; off by at most 2 events)."""
    best = TrivialInput(activities=0, timers=0)
    for timers in range(6):
        activities = max(0, round((events - 5 - 5 * timers) / 6))
        candidate = TrivialInput(activities=activities, timers=timers, timer_seconds=1.0)
        if abs(history_events(candidate, completed=True) - events) < abs(history_events(best, completed=True) - events):
            best = candidate
    return best
