"""`simulate --generate N` / `--report` / `--compare`: play a population, write results and a report.

One command a manager can run: a synthetic population (or a scenario file) played under one policy, or under two
on the very same population, with a report of waiting times, workload, letters and decisions. The per-case
results (`results*.jsonl`) are kept, so `--compare-results A B` rebuilds a comparison without simulating again.
"""

from __future__ import annotations

import re
import shlex
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

from tqdm import tqdm

from domain.policy import Policy
from simulation.analysis import Summary, summarize
from simulation.ceiling import measure
from simulation.engine import EngineOptions, play
from simulation.forecast_report import ReportMeta, RunFacts, write_report
from simulation.measure import ServerMemory, own_peak_rss_mb
from simulation.population import Generator, load_population
from simulation.results import RESULTS_FILE, ResultsWriter, read_rows, row_for
from simulation.scenario import Prepared, iter_scenarios, prepare, scenario_line

SUMMARY_FILE = "summary.json"


@dataclass
class ForecastRequest:
    """What the command line asked for (starter.py's `simulate` sub-command)."""

    policies: list[tuple[Policy, str]]
    """(policy, its file) for run A and, with --compare, run B."""
    report_dir: Path
    outbox_dir: Path = Path("data/simulation")
    """Where each run's outbox goes (`outbox-<policy>.sqlite`: every letter and task as sent; large for a year)."""
    generate: int | None = None
    seed: int = 1
    start: date | None = None
    end: date | None = None
    population_file: Path | None = None
    scenario: Path | None = None
    write_scenarios: Path | None = None
    window: int = 250
    sandbox: bool = False
    quiet: bool = False
    ceiling: int = 0
    command: str = ""


def default_report_dir(data_dir: Path, request_name: str) -> Path:
    return data_dir / "reports" / re.sub(r"[^A-Za-z0-9._-]+", "-", request_name)


def labels(policies: list[tuple[Policy, str]]) -> list[str]:
    names = [p.name for p, _ in policies]
    if len(set(names)) < len(names):
        return [f"{n} ({chr(65 + i)})" for i, n in enumerate(names)]
    return names


class Source:
    """The cases to play, produced afresh for each run (the same cases every time, never all in memory)."""

    def __init__(self, request: ForecastRequest) -> None:
        self.request = request
        self.generator: Generator | None = None
        if request.generate is not None:
            population = load_population(request.population_file)
            self.generator = Generator(population, request.policies[0][0], request.seed, request.start, request.end)

    @property
    def count(self) -> int | None:
        return self.request.generate

    def cases(self) -> Iterator[Prepared]:
        if self.generator is not None:
            assert self.request.generate is not None
            for scenario in self.generator.cases(self.request.generate):
                yield prepare(scenario, scenario.name)
        else:
            assert self.request.scenario is not None
            yield from iter_scenarios(self.request.scenario)

    def write_scenarios(self, path: Path) -> int:
        """The population as a scenario file (contract.md): replayable with `simulate FILE --report DIR`."""
        path.parent.mkdir(parents=True, exist_ok=True)
        count = 0
        with path.open("w", encoding="utf-8") as out:
            for scenario, _start, _events in self.cases():
                out.write(scenario_line(scenario) + "\n")
                count += 1
        return count


async def run_forecast(request: ForecastRequest, out: TextIO = sys.stdout) -> int:
    """Play, write results and the report; print where they are and how fast it went. Exit code."""
    source = Source(request)
    if request.write_scenarios is not None:
        written = source.write_scenarios(request.write_scenarios)
        print(f"population: {written:,} cases written to {request.write_scenarios}", file=out)
    names = labels(request.policies)
    request.report_dir.mkdir(parents=True, exist_ok=True)
    single = len(request.policies) == 1

    def results_path(label: str) -> Path:
        return request.report_dir / (RESULTS_FILE if single else f"results-{_slug(label)}.jsonl")

    facts: list[RunFacts] = []
    total = source.count * len(request.policies) if source.count is not None else None
    bar = tqdm(total=total, unit="case", file=sys.stderr, disable=request.quiet or not sys.stderr.isatty(),
               dynamic_ncols=True, smoothing=0.05,
               bar_format="{l_bar}{bar}| {n:,}/{total:,} [{elapsed}<{remaining}, {rate_fmt}]")
    progress = _WholeCases(bar)
    options = EngineOptions(window=request.window, server_cases=request.window, sandbox=request.sandbox,
                            encrypt=request.generate is None)
    try:
        for (policy, policy_file), label in zip(request.policies, names, strict=True):
            bar.set_description(label)
            results = results_path(label)
            outbox = request.outbox_dir / f"outbox-{_slug(label)}.sqlite"
            for stale in (outbox, outbox.with_name(outbox.name + "-wal"), outbox.with_name(outbox.name + "-shm")):
                stale.unlink(missing_ok=True)
            fact = await _run(source, policy, outbox, results, options, progress)
            fact.label, fact.policy_file = label, policy_file
            facts.append(fact)
            progress.settle(sum(f.cases for f in facts))
            tqdm.write(f"{label}: {fact.cases:,} cases in {fact.seconds:,.1f} s = "
                       f"{fact.cases / (fact.seconds or 1):.1f} cases/s; peak memory {fact.peak_rss_mb:,.0f} MB "
                       f"({_server_memory(fact.server_rss_mb)}); results {results}; outbox {outbox}",
                       file=out)
    finally:
        bar.close()
    ceiling = await _ceiling(request.ceiling) if request.ceiling else {}
    for name, rate in ceiling.items():
        print(f"ceiling ({name}, trivial workflow, four one-day timers): {rate:.1f}/s", file=out)
    summaries = [summarize(read_rows(results_path(n)), n) for n in names]
    meta = ReportMeta(command=request.command, seed=request.seed if request.generate is not None else None,
                      population=str(request.population_file or "config/population.toml")
                      if request.generate is not None else None,
                      runs=facts, ceiling=ceiling, sandbox=request.sandbox)
    report = finish_report(summaries, request.report_dir, meta)
    print(f"report: {report}", file=out)
    return 0


async def _run(source: Source, policy: Policy, outbox: Path, results: Path, options: EngineOptions,
               progress: Callable[[float], None]) -> RunFacts:
    memory = ServerMemory()
    memory.start()
    began = time.perf_counter()
    with ResultsWriter(results) as writer:
        async for played in play(source.cases(), policy, outbox, options=options, progress=progress):
            writer.write(row_for(played))
    seconds = time.perf_counter() - began
    return RunFacts(label=policy.name, seconds=seconds, peak_rss_mb=own_peak_rss_mb(), outbox=str(outbox),
                    server_rss_mb=await memory.stop(), cases=writer.count)


async def _ceiling(cases: int) -> dict[str, float]:
    return {("sandboxed" if sandbox else "unsandboxed"): (await measure(cases, sandbox=sandbox)).per_second
            for sandbox in (True, False)}


def finish_report(summaries: list[Summary], directory: Path, meta: ReportMeta) -> Path:
    (directory / SUMMARY_FILE).write_text(
        "[" + ",\n".join(s.model_dump_json(exclude={"decision_days": {"__all__": {"days"}}}) for s in summaries)
        + "]\n", encoding="utf-8")
    return write_report(summaries, directory, meta)


def compare_results(paths: list[Path], directory: Path, command: str, out: TextIO = sys.stdout) -> int:
    """A report from one or two results files (or report directories) without simulating again."""
    names = [_run_name(p) for p in paths]
    if len(set(names)) < len(names):
        names = [f"{n} ({chr(65 + i)})" for i, n in enumerate(names)]
    summaries = [summarize(read_rows(p), n) for p, n in zip(paths, names, strict=True)]
    directory.mkdir(parents=True, exist_ok=True)
    report = finish_report(summaries, directory, ReportMeta(command=command))
    print(f"report: {report}", file=out)
    return 0


def _run_name(path: Path) -> str:
    """`results-<label>.jsonl` -> label; `DIR/results.jsonl` or `DIR` -> DIR's name."""
    if path.is_file() and path.stem.startswith("results-"):
        return path.stem.removeprefix("results-")
    return path.parent.name if path.is_file() else path.name


def _server_memory(mb: float | None) -> str:
    """The test server's peak, sampled every 2 s: a run shorter than that may have no sample."""
    return f"test server {mb:,.0f} MB" if mb else "test server not sampled"


class _WholeCases:
    """Moves the bar by whole cases: the engine reports fractions of a batch as its time skips, and summing them
    as floats would end a hair past the total."""

    def __init__(self, bar: tqdm[Any]) -> None:
        self.bar = bar
        self.done = 0.0

    def __call__(self, cases: float) -> None:
        self.done += cases
        whole = int(self.done + 1e-6)
        self._show(whole if self.bar.total is None else min(whole, int(self.bar.total)))

    def settle(self, played_so_far: int) -> None:
        """A run is over: the bar shows exactly the cases played so far, and the next run counts from there."""
        self.done = float(played_so_far)
        self._show(played_so_far)
        self.bar.refresh()

    def _show(self, cases: int) -> None:
        self.bar.update(cases - self.bar.n)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")


def command_line(argv: list[str]) -> str:
    return "python starter.py " + shlex.join(argv)


def today_slug() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%SZ")
