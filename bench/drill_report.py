"""What a crash drill was asked to do, and what it found: the figures it prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bench.drill_driver import CaseRun
from bench.drill_verify import Verdict


@dataclass(frozen=True)
class DrillConfig:
    cases: int = 50
    crashes: int = 5
    server_crashes: int = 0
    seed: int = 1
    patience: float = 600.0
    """Seconds a case may take before it counts as lost (a crash mid-activity costs one OUTBOUND_TIMEOUT)."""
    worker_cache: int | None = None
    """The worker's MISSED_MEETING_MAX_CACHED_WORKFLOWS (None: its default)."""
    keep: Path | None = None
    """Keep the server's database, the logs, the outbox and the payload key file here, not in a temporary dir."""


@dataclass
class DrillReport:
    config: DrillConfig
    control_seconds: float = 0.0
    drill_seconds: float = 0.0
    worker_crashes: int = 0
    server_crashes: int = 0
    worker_died_with_server: int = 0
    restart_seconds: list[float] = field(default_factory=list)
    verdict: Verdict = field(default_factory=Verdict)
    cpr_leaks: list[str] = field(default_factory=list)
    retries: int = 0
    slowest_case: float = 0.0
    problems: list[str] = field(default_factory=list)
    """What stopped the drill before its checks (a control case that failed, say)."""

    @property
    def ok(self) -> bool:
        return self.verdict.ok and not (self.cpr_leaks or self.problems)

    def take(self, verdict: Verdict, drill: list[CaseRun]) -> None:
        self.verdict = verdict
        self.retries = sum(r.retries for r in drill)
        self.slowest_case = max((r.seconds for r in drill), default=0.0)

    def render(self) -> str:
        c, v = self.config, self.verdict
        restarts = sorted(self.restart_seconds)
        restart = f"{restarts[len(restarts) // 2]:.1f} s median" if restarts else "-"
        lines = [
            f"crash drill: {c.cases} cases, seed {c.seed}"
            + (f", worker cache {c.worker_cache}" if c.worker_cache is not None else ""),
            f"  control run (no faults):  {self.control_seconds:7.1f} s",
            f"  drill run (with faults):  {self.drill_seconds:7.1f} s wall",
            f"  worker crashes injected:  {self.worker_crashes:4d}",
            f"  server crashes injected:  {self.server_crashes:4d}"
            + (f"  (the worker died with it {self.worker_died_with_server}x)" if self.worker_died_with_server else ""),
            f"  process restarts:         {len(restarts):4d}  ({restart})",
            f"  slowest case:             {self.slowest_case:7.1f} s",
            f"  calls the drill repeated: {self.retries:4d}",
            f"  outbox rows:              {v.outbox_rows:4d}",
            f"  cases lost:               {v.lost:4d}",
            f"  duplicate sends:          {v.duplicate_sends:4d}",
            f"  missing sends:            {v.missing_sends:4d}",
            f"  wrong journals:           {v.wrong_journals:4d}",
            f"  histories not replaying:  {v.unreplayable:4d}",
            f"  CPR in server db / logs:  {len(self.cpr_leaks):4d}",
        ]
        lines += [f"  ! {p}" for p in [*self.problems, *v.problems][:20]]
        lines.append("RESULT: " + ("ok, nothing lost, nothing sent twice" if self.ok else "FAILED"))
        return "\n".join(lines)
