"""Part 4, replay: histories per second for `starter.py replay` over the golden histories, beside the ceiling.

The figure replays every golden history in tests/histories/ (decrypted with their public test-only key) with
`replay.replayer.run_replay`, what `starter.py replay PATH` runs, on one replayer with the worker's sandbox and
data converter. The ceiling replays trivial-workflow histories of the same lengths, recorded in the same run on
the time-skipping server (one per golden history, activities and timers chosen to match its event count) and
encrypted with the same key, through the same function. Both are replayed `rounds` times, alternately, and the
rates are taken over all rounds.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
from dataclasses import dataclass
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from bench.perf_report import Row
from bench.perf_trivial import TrivialWorkflow, shape_for_length, trivial_step
from replay.replayer import history_files, make_replayer, run_replay
from runtime.binaries import test_server_path
from runtime.keys import KeyRing
from runtime.temporal import data_converter
from runtime.worker import make_worker

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "histories"
RECORD_QUEUE = "perf-replay-record"


def golden_keys() -> KeyRing:
    """The public test-only key of the golden histories (tests/histories/keys.py)."""
    from tests.histories.keys import golden_keys as keys

    return keys()


def event_counts(paths: list[Path]) -> list[int]:
    return [len(json.loads(p.read_text(encoding="utf-8"))["events"]) for p in paths]


async def record_trivial(lengths: list[int], out_dir: Path, keys: KeyRing) -> list[int]:
    """One completed trivial history per length, written like `temporal workflow show --output json`; their
    actual event counts."""
    await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
    env = await WorkflowEnvironment.start_time_skipping(test_server_existing_path=str(test_server_path()),
                                                        data_converter=data_converter(keys))
    recorded = []
    async with env, make_worker(env.client, RECORD_QUEUE, [trivial_step], workflows=[TrivialWorkflow]):
        handles = [await env.client.start_workflow(TrivialWorkflow.run, shape_for_length(length),
                                                   id=f"perf-trivial-{n:04d}", task_queue=RECORD_QUEUE)
                   for n, length in enumerate(lengths)]
        for n, handle in enumerate(handles):
            await handle.result()
            history = await handle.fetch_history()
            (out_dir / f"perf-trivial-{n:04d}.json").write_text(history.to_json(), encoding="utf-8")
            recorded.append(len(history.events))
    return recorded


@dataclass
class Replays:
    histories: int = 0
    events: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.histories / self.seconds if self.seconds else 0.0


async def _replay(folder: Path, keys: KeyRing, extra: list[type], tally: Replays, events: int, count: int) -> None:
    out = io.StringIO()
    began = time.monotonic()
    code = await run_replay([folder], out=out, replayer=make_replayer(extra, keys=keys))
    tally.seconds += time.monotonic() - began
    if code != 0:
        raise RuntimeError(f"replay of {folder} failed:\n{out.getvalue()[-2000:]}")
    tally.histories += count
    tally.events += events


async def run_replay_bench(workdir: Path, rounds: int = 3) -> list[Row]:
    """Golden and trivial histories replayed alternately, `rounds` times each."""
    keys = golden_keys()
    golden = history_files([GOLDEN])
    lengths = event_counts(golden)
    trivial_dir = workdir / "trivial-histories"
    trivial_lengths = await record_trivial(lengths, trivial_dir, keys)
    case, trivial = Replays(), Replays()
    await _replay(trivial_dir, keys, [TrivialWorkflow], Replays(), 0, 0)  # warm-up: imports, first sandbox
    for _ in range(rounds):
        await _replay(GOLDEN, keys, [], case, sum(lengths), len(golden))
        await _replay(trivial_dir, keys, [TrivialWorkflow], trivial, sum(trivial_lengths), len(trivial_lengths))
    note = (f"{len(golden)} golden histories ({sum(lengths) / len(golden):.0f} events on average) through "
            f"`run_replay` (`starter.py replay`), {rounds} rounds; ceiling: trivial histories of the same lengths "
            f"({sum(trivial_lengths) / len(trivial_lengths):.0f} events on average); events/s "
            f"{case.events / case.seconds:,.0f} vs {trivial.events / trivial.seconds:,.0f}")
    return [Row("replay", "histories/s", len(golden), case.rate, "/s", trivial.rate, None, note)]
