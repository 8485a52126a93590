"""Process settings from the environment, in one typed place (names documented in the README)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from workflows.api import TASK_QUEUE


@dataclass(frozen=True)
class Settings:
    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    task_queue: str = TASK_QUEUE
    data_dir: Path = field(default_factory=lambda: Path("data"))
    policy_file: Path | None = None
    max_cached_workflows: int = 1000

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        policy = env.get("MISSED_MEETING_POLICY")
        return cls(
            temporal_address=env.get("TEMPORAL_ADDRESS", cls.temporal_address),
            temporal_namespace=env.get("TEMPORAL_NAMESPACE", cls.temporal_namespace),
            task_queue=env.get("MISSED_MEETING_TASK_QUEUE", TASK_QUEUE),
            data_dir=Path(env.get("MISSED_MEETING_DATA_DIR", "data")),
            policy_file=Path(policy) if policy else None,
            max_cached_workflows=int(env.get("MISSED_MEETING_MAX_CACHED_WORKFLOWS", "1000")),
        )
