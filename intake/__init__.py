"""Event intake: jobcenter events (JSON lines) in, case workflows started or updated (`starter.py events`)."""

from __future__ import annotations

from intake.events import Summary, run_events
from intake.reader import read_lines, rejects_path_for

__all__ = ["Summary", "read_lines", "rejects_path_for", "run_events"]
