"""Reading jobcenter event lines: numbered, kept exactly as read, never decoded lossily in silence.

Lines are read as bytes and decoded one by one, so a single badly encoded line is a rejection with its line
number instead of a crash that loses the rest of the file. Stdin is read in a worker thread: a slow pipe
(`tail -f … | starter.py events -`) must not stall the event loop that carries the Temporal calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

STDIN = "-"
"""The source name that means standard input."""

STDIN_REJECTS = "rejects.jsonl"
"""Where rejected stdin lines go: the current directory, as the contract says."""


@dataclass(frozen=True, slots=True)
class SourceLine:
    """One non-blank input line: its 1-based number and its text without the line terminator."""

    number: int
    raw: str
    """The line exactly as read (undecodable bytes shown as `\\xNN`); what the rejects file keeps."""
    decode_error: bool = False
    """True when the bytes were not UTF-8: the line cannot be an event."""


def decode_line(number: int, data: bytes) -> SourceLine | None:
    """Turn one raw line into a `SourceLine`, or None for a blank line (blank lines are skipped)."""
    if data.endswith(b"\n"):
        data = data[:-1]
        if data.endswith(b"\r"):
            data = data[:-1]
    if number == 1 and data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # a UTF-8 byte-order mark from a Windows export is not part of the first event
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return SourceLine(number, data.decode("utf-8", errors="backslashreplace"), decode_error=True)
    if not text.strip():
        return None
    return SourceLine(number, text)


def read_lines(stream: BinaryIO) -> Iterator[SourceLine]:
    """Numbered non-blank lines of a binary stream, synchronously (files, tests, sync callers)."""
    for number, data in enumerate(stream, start=1):
        line = decode_line(number, data)
        if line is not None:
            yield line


async def read_lines_async(stream: BinaryIO, *, threaded: bool) -> AsyncGenerator[SourceLine, None]:
    """Numbered non-blank lines; with `threaded`, each read happens off the event loop (pipes, ttys)."""
    if not threaded:
        for read in read_lines(stream):
            yield read
        return
    number = 0
    while True:
        data = await asyncio.to_thread(stream.readline)
        if not data:
            return
        number += 1
        line = decode_line(number, data)
        if line is not None:
            yield line


def rejects_path_for(source: str) -> Path:
    """`FILE.rejects.jsonl` next to the input, exactly as the contract names it (`events.jsonl` →
    `events.jsonl.rejects.jsonl`); stdin → `./rejects.jsonl`."""
    if source == STDIN:
        return Path(STDIN_REJECTS)
    path = Path(source)
    return path.with_name(path.name + ".rejects.jsonl")
