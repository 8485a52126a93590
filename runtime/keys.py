"""Payload encryption keys: where they come from, how they rotate, and a clear error when they are wrong.

A key ring holds every key that may still be needed to read old workflow histories, and names one of them
*current*: new payloads are encrypted with it. Keys are configured as ``id:base64key`` entries, the first
being current, either in the environment variable ``MISSED_MEETING_PAYLOAD_KEYS`` (comma-separated) or in
a key file (one entry a line, ``#`` comments allowed; default ``<data_dir>/keys/payload-keys``).

The key file is never created implicitly when a process starts: a worker that quietly made itself a new
key could not read the cases written with the old one. ``scripts/setup`` creates it once
(``python -m runtime.keys ensure``); ``python -m runtime.keys rotate`` puts a fresh key first and keeps
the old ones for decryption.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import os
import re
import secrets
import stat
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

KEYS_ENV = "MISSED_MEETING_PAYLOAD_KEYS"
"""Comma-separated ``id:base64key`` entries; the first is the current key. Wins over the key file."""
KEY_FILE_ENV = "MISSED_MEETING_PAYLOAD_KEY_FILE"
"""Path of the key file, when it should not live at ``<data_dir>/keys/payload-keys``."""
DATA_DIR_ENV = "MISSED_MEETING_DATA_DIR"
DEFAULT_DATA_DIR = "data"
KEY_BYTES = 32
"""AES-256."""

_KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class KeyConfigError(Exception):
    """The payload keys are missing or malformed: raised at start, with a message an operator can act on.

    Messages name key ids and file paths, never key material.
    """


@dataclass(frozen=True)
class KeyRing:
    """The keys a codec may use: ``current_id`` encrypts, every key in ``keys`` decrypts."""

    current_id: str
    keys: Mapping[str, bytes] = field(repr=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyConfigError("the payload key ring is empty")
        for key_id, key in self.keys.items():
            _check_key_id(key_id)
            if len(key) != KEY_BYTES:
                raise KeyConfigError(
                    f"payload key {key_id!r} is {len(key)} bytes; AES-256 needs {KEY_BYTES}"
                )
        if self.current_id not in self.keys:
            raise KeyConfigError(f"the current payload key id {self.current_id!r} is not in the key ring")
        object.__setattr__(self, "keys", dict(self.keys))

    @property
    def current_key(self) -> bytes:
        return self.keys[self.current_id]

    @property
    def ids(self) -> list[str]:
        """Key ids, current first."""
        return [self.current_id, *(k for k in self.keys if k != self.current_id)]

    @classmethod
    def generate(cls, key_id: str | None = None) -> KeyRing:
        """A fresh one-key ring: for tests and simulations whose histories need not outlive the process."""
        key_id = key_id or new_key_id()
        return cls(current_id=key_id, keys={key_id: _fresh()})

    def rotated(self, key_id: str | None = None) -> KeyRing:
        """This ring with a fresh key as current; the old keys stay so existing histories still decrypt."""
        new_id = key_id or new_key_id()
        if new_id in self.keys:
            raise KeyConfigError(f"payload key id {new_id!r} is already in the key ring")
        return KeyRing(current_id=new_id, keys={new_id: _fresh(), **self.keys})

    @classmethod
    def parse(cls, spec: str, *, source: str = KEYS_ENV) -> KeyRing:
        """Parse ``id:base64key`` entries separated by commas or newlines; the first is current."""
        entries = [
            line.strip()
            for raw in spec.splitlines()
            for line in raw.split("#", 1)[0].split(",")
            if line.strip()
        ]
        return cls.from_entries(entries, source=source)

    @classmethod
    def from_entries(cls, entries: Sequence[str], *, source: str) -> KeyRing:
        if not entries:
            raise KeyConfigError(f"{source}: no payload keys (expected 'id:base64key' entries)")
        keys: dict[str, bytes] = {}
        for number, entry in enumerate(entries, start=1):
            key_id, sep, encoded = entry.partition(":")
            key_id = key_id.strip()
            if not sep or not key_id:
                raise KeyConfigError(f"{source}: entry {number} is not of the form 'id:base64key'")
            _check_key_id(key_id, source=source)
            if key_id in keys:
                raise KeyConfigError(f"{source}: payload key id {key_id!r} appears twice")
            try:
                key = base64.b64decode(encoded.strip(), validate=True)
            except (binascii.Error, ValueError):
                raise KeyConfigError(f"{source}: payload key {key_id!r} is not valid base64") from None
            if len(key) != KEY_BYTES:
                raise KeyConfigError(
                    f"{source}: payload key {key_id!r} is {len(key)} bytes; AES-256 needs {KEY_BYTES}"
                )
            keys[key_id] = key
        return cls(current_id=next(iter(keys)), keys=keys)

    @classmethod
    def from_file(cls, path: Path) -> KeyRing:
        """Read a key file, refusing one that other users could read (like ssh does)."""
        try:
            mode = path.stat().st_mode
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise KeyConfigError(
                f"payload key file {path} does not exist: run scripts/setup to create it, or set {KEYS_ENV}"
            ) from None
        except OSError as exc:
            raise KeyConfigError(f"payload key file {path} cannot be read: {exc.strerror}") from None
        if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyConfigError(
                f"payload key file {path} is accessible to other users (mode {stat.S_IMODE(mode):o}); "
                f"run: chmod 600 {path}"
            )
        return cls.parse(text, source=str(path))

    def to_spec(self, separator: str = ",") -> str:
        """The ``id:base64key`` form, current first: for the key file or a child process's environment."""
        return separator.join(f"{k}:{base64.b64encode(self.keys[k]).decode('ascii')}" for k in self.ids)


def new_key_id() -> str:
    """A sortable, unique-enough key id: when it was made plus a little randomness."""
    return f"k{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(2)}"


def _fresh() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def _check_key_id(key_id: str, *, source: str | None = None) -> None:
    if not _KEY_ID.match(key_id):
        prefix = f"{source}: " if source else ""
        raise KeyConfigError(f"{prefix}payload key id {key_id[:70]!r} must be 1-64 of A-Z a-z 0-9 . _ -")


def default_key_file(env: Mapping[str, str] | None = None) -> Path:
    """``MISSED_MEETING_PAYLOAD_KEY_FILE``, else ``<MISSED_MEETING_DATA_DIR or data>/keys/payload-keys``."""
    env = os.environ if env is None else env
    explicit = env.get(KEY_FILE_ENV)
    if explicit:
        return Path(explicit)
    return Path(env.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR) / "keys" / "payload-keys"


def load_keys(env: Mapping[str, str] | None = None) -> KeyRing:
    """The configured key ring: ``MISSED_MEETING_PAYLOAD_KEYS`` if set, else the key file.

    Raises KeyConfigError when neither yields a valid ring, so a process fails at start, not mid-case.
    """
    env = os.environ if env is None else env
    spec = env.get(KEYS_ENV, "").strip()
    if spec:
        return KeyRing.parse(spec, source=KEYS_ENV)
    return KeyRing.from_file(default_key_file(env))


def _write_private(path: Path, text: str, *, replace: bool) -> None:
    """Write a 0600 file; with ``replace`` atomically via a temporary file, else only if it is new."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp") if replace else path
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    if replace:
        os.replace(target, path)


_HEADER = (
    "# Payload encryption keys (AES-256-GCM), one 'id:base64key' a line. The first is current:\n"
    "# it encrypts new payloads; every key listed decrypts. Keep old keys while histories use them.\n"
    "# Secret: never commit, never log. Rotate with: python -m runtime.keys rotate\n"
)


def ensure_key_file(path: Path) -> bool:
    """Create a key file with one fresh key and mode 0600 if there is none. True if it was created."""
    if path.exists():
        return False
    try:
        _write_private(path, _HEADER + KeyRing.generate().to_spec("\n") + "\n", replace=False)
    except FileExistsError:  # created concurrently by another setup run
        return False
    return True


def rotate_key_file(path: Path) -> str:
    """Put a fresh key first in the key file, keeping the old ones; returns the new key id."""
    ring = KeyRing.from_file(path).rotated()
    _write_private(path, _HEADER + ring.to_spec("\n") + "\n", replace=True)
    return ring.current_id


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m runtime.keys {ensure,rotate,check} [PATH]``: manage the key file without printing keys."""
    parser = argparse.ArgumentParser(prog="python -m runtime.keys", description=main.__doc__)
    parser.add_argument("action", choices=["ensure", "rotate", "check"])
    parser.add_argument("path", nargs="?", type=Path, help="key file (default: from the environment)")
    args = parser.parse_args(argv)
    path: Path = args.path or default_key_file()
    try:
        if args.action == "ensure":
            created = ensure_key_file(path)
            ring = KeyRing.from_file(path)
            print(f"{'created' if created else 'kept existing'} payload key file {path} "
                  f"(current key id {ring.current_id})")
        elif args.action == "rotate":
            print(f"rotated payload key file {path}: new current key id {rotate_key_file(path)}")
        else:
            ring = load_keys() if args.path is None else KeyRing.from_file(path)
            print(f"payload keys ok: current {ring.current_id}; all: {', '.join(ring.ids)}")
    except KeyConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
