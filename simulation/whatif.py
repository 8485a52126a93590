"""Policy files for what-ifs: a full policy, or `extends = "policy.toml"` plus only what differs.

A what-if written as a difference stays right when the base policy changes (a new field, an office-hours
change): `config/policy-2027.toml` is Copenhagen's policy with sanctions for aktivitetsparate removed, whatever
else Copenhagen's policy says today. Tables are merged key by key; anything else (lists, values) replaces.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from domain.policy import Policy, PolicyError

EXTENDS = "extends"


def load_policy_file(path: Path, _seen: tuple[Path, ...] = ()) -> Policy:
    """A validated policy from `path`, following `extends` (relative to the file) to its base."""
    return _validate(path, _load_merged(path, _seen))


def _load_merged(path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    resolved = path.resolve()
    if resolved in seen:
        raise PolicyError(f"policy file {path} extends itself (through {', '.join(str(p) for p in seen)})")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"cannot read policy file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"policy file {path} is not valid TOML: {exc}") from None
    base_name = raw.pop(EXTENDS, None)
    if base_name is None:
        return raw
    if not isinstance(base_name, str):
        raise PolicyError(f"policy file {path}: '{EXTENDS}' must be a file name")
    base = _load_merged(path.parent / base_name, (*seen, resolved))
    return _merge(base, raw)


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _validate(path: Path, raw: dict[str, Any]) -> Policy:
    try:
        return Policy.model_validate(raw)
    except ValueError as exc:
        raise PolicyError(f"policy file {path} is invalid: {exc}") from None
