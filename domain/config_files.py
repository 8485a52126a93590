"""Reading the TOML configuration files (policy, what-if policies, simulated population) with one kind of error.

Every problem names the file and says what is wrong with it, in the caller's own error type, so a command can
print it as it is: `cannot read policy file config/x.toml: No such file or directory`.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any


def read_toml(path: Path, kind: str, error: type[ValueError]) -> dict[str, Any]:
    """The parsed file at `path`; `kind` ("policy", "population") names it in the `error` raised."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"cannot read {kind} file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{kind} file {path} is not valid TOML: {exc}") from None
