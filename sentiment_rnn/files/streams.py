"""The first step of the flow for users' files: bytes -> checked lines, from any stream.

    file, pipe, FIFO or standard input -> lines (capped, NUL-free, UTF-8) -> records (records.py)

Every input is opened once and read as a stream, one line at a time, so a pipe, a FIFO or `-`
reads the same as a file and memory stays flat. Looking ahead (`peek`, for format detection)
buffers lines that iteration then serves first. Each line is checked while it is read: at most
`limit` bytes (a longer one is read past in constant memory and reported, never kept), no NUL
byte, valid UTF-8; a UTF-8 byte order mark at the start is dropped, a UTF-16 or UTF-32 one named.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from sentiment_rnn.errors import DataFileError

RECORD_LIMIT = 10 * 2**20  # bytes in one record (line, or CSV record over several lines)
_BARE_CR = re.compile(rb"\r(?!\n)")
_BARE_CR_SPLIT = re.compile(rb"(?<=\r)(?!\n)")  # splits after a CR that no LF follows
_BOMS = {b"\xff\xfe": "UTF-16", b"\xfe\xff": "UTF-16", b"\xff\xfe\x00\x00": "UTF-32"}


class Bad(str):
    """Why a record is malformed, in place of the record."""


class TooLong(Bad):
    """A record over the byte limit, read past without being kept; `quotes` counts the `"`
    in it, so a CSV record that goes on past it still ends where its quotes close."""

    quotes = 0


class Source:
    """One input opened once: a path, a FIFO, /dev/stdin, or `-` for standard input.

    Iterating gives (line number, text of the line with its end) in order; `peek` reads lines
    ahead into a buffer that iteration serves first. `bytes` counts what was read so far."""

    def __init__(self, name: str | os.PathLike, limit: int = RECORD_LIMIT,
                 stream: BinaryIO | None = None):
        self.name = str(name)
        self.limit = limit
        self.number = 0  # lines read from the stream so far
        self.bytes = 0
        self._digest = hashlib.sha256()  # of every byte read, for a run's record of its data
        self._ahead: list[tuple[int, str]] = []
        self._own = stream is None and self.name != "-"  # before _open renames "-"
        self._stream = stream if stream is not None else self._open()
        self.stat = os.fstat(self._stream.fileno()) if _has_fd(self._stream) else None

    def _open(self) -> BinaryIO:
        if self.name == "-":
            if sys.stdin is None:
                raise DataFileError("standard input is closed")
            self.name = "standard input"
            return sys.stdin.buffer
        try:
            f = open(self.name, "rb")
        except OSError as exc:
            raise DataFileError(f"{self.name}: cannot be read ({exc.strerror})") from None
        if stat.S_ISDIR(os.fstat(f.fileno()).st_mode):
            f.close()
            raise DataFileError(f"{self.name}: is a folder, not a file")
        return f

    def close(self) -> None:
        if self._own:
            self._stream.close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def sha256(self) -> str:
        """sha256 of the bytes read so far: of the whole input once it is read to the end."""
        return self._digest.hexdigest()

    @property
    def extension(self) -> str:
        return Path(self.name).suffix.lower()

    def peek_until(self, found, most: int) -> list[tuple[int, str]]:
        """Lines read ahead, still to be served by iteration: up to and including the first
        for which found(line) is true, and at most `most` of them."""
        it = self._read()
        while len(self._ahead) < most and not any(found(line) for _, line in self._ahead[-1:]):
            line = next(it, None)
            if line is None:
                break
            self._ahead.append(line)
        return list(self._ahead)

    def __iter__(self) -> Iterator[tuple[int, str]]:
        while self._ahead:
            yield self._ahead.pop(0)
        yield from self._read()

    def _read(self) -> Iterator[tuple[int, str]]:
        f = self._stream
        while True:
            try:
                raw = f.readline(self.limit + 2)  # a full line of `limit` bytes and its end
            except OSError as exc:
                raise DataFileError(f"{self.name}: cannot be read ({exc.strerror})") from None
            if not raw:
                return
            self.bytes += len(raw)
            self._digest.update(raw)
            if self.number == 0:
                raw = self._start(raw)
            if b"\0" in raw:
                raise DataFileError(f"{self.name}, line {self.number + 1}: a NUL byte; this "
                                    f"looks like a binary file, not UTF-8 text")
            if len(raw.rstrip(b"\r\n")) > self.limit or (len(raw) == self.limit + 2
                                                         and not raw.endswith(b"\n")):
                self.number += 1
                too_long = TooLong(f"longer than {self.limit:,} bytes"
                                   + (" (are its lines ended by CR alone?)"
                                      if _BARE_CR.search(raw) else ""))
                too_long.quotes = self._skip_rest(raw)
                yield self.number, too_long
                continue
            # a bare CR ends a line too (old Mac files, mixed line ends); a CR at the end of
            # the input ends its last line, as a final LF does: no empty line after it
            for piece in _BARE_CR_SPLIT.split(raw) if _BARE_CR.search(raw) else (raw,):
                if not piece:
                    continue
                self.number += 1
                try:
                    yield self.number, piece.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise DataFileError(f"{self.name}, line {self.number}: not valid UTF-8 "
                                        f"(byte {exc.start + 1} of the line)") from None

    def _start(self, raw: bytes) -> bytes:
        for bom, encoding in sorted(_BOMS.items(), key=lambda kv: -len(kv[0])):
            if raw.startswith(bom):
                raise DataFileError(f"{self.name}: the file is {encoding} text; save it as "
                                    f"UTF-8")
        return raw.removeprefix(b"\xef\xbb\xbf")

    def _skip_rest(self, raw: bytes) -> int:
        """Read past the rest of an over-long line in constant memory; returns the number of
        quote characters in the whole line."""
        quotes = raw.count(b'"')
        while raw and not raw.endswith(b"\n"):
            raw = self._stream.readline(1 << 20)
            self.bytes += len(raw)
            self._digest.update(raw)
            if not raw:
                break
            if b"\0" in raw:
                raise DataFileError(f"{self.name}, line {self.number}: a NUL byte; this looks "
                                    f"like a binary file, not UTF-8 text")
            quotes += raw.count(b'"')
        return quotes


def _has_fd(stream) -> bool:
    try:
        stream.fileno()
        return True
    except (OSError, AttributeError, ValueError):
        return False


def read_whole_text(name: str | os.PathLike, limit: int = RECORD_LIMIT) -> str:
    """All of an input as one text (inspect -), at most `limit` bytes, checked as it is read."""
    parts = []
    with Source(name, limit) as source:
        for _, line in source:
            if isinstance(line, TooLong) or source.bytes > limit:
                raise DataFileError(f"{source.name}: longer than {limit:,} bytes")
            parts.append(line)
    return "".join(parts)
