"""The user's files at the start of the flow: bytes -> records -> texts (and labels).

    file, pipe or standard input -> lines -> records -> text (+ label) -> tokens -> ids -> ...

Every input is opened once and read as a stream, one line at a time, so a pipe, a FIFO or `-`
reads the same as a file and memory stays flat. Format detection looks at the first lines of
that same stream, which are then read again from a buffer. Each line is checked while it is
read: at most `limit` bytes (a longer one is an error, or skipped whole without keeping it), no
NUL byte, valid UTF-8; a byte order mark at the start is dropped.

Formats: one text per line; CSV (quoted the usual way: a record may span lines) or TSV (plain,
a record is a line) with a header naming the columns; headerless TSV `label<TAB>text`; JSON
Lines. A CSV record is found by its quotes before it is parsed, so a malformed record is skipped
whole and parsing never resumes inside a quoted field.
"""

from __future__ import annotations

import csv
import json
import os
import stat
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .errors import DataFileError
from .text import tokenize

RECORD_LIMIT = 10 * 2**20  # bytes in one record (line, or CSV record over several lines)
LABELS = {"0": 0, "neg": 0, "negative": 0, "1": 1, "pos": 1, "positive": 1}
EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
              ".json": "jsonl", ".txt": None}
INPUT_FORMATS = ("auto", "lines", "csv", "tsv", "jsonl")
SNIFF_LINES = 64  # most lines looked at (and buffered) to find a labelled file's format
_BOMS = {b"\xff\xfe": "UTF-16", b"\xfe\xff": "UTF-16", b"\xff\xfe\x00\x00": "UTF-32"}
csv.field_size_limit(sys.maxsize if sys.maxsize < 2**63 else 2**62)  # records are capped here


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
        self._ahead: list[tuple[int, str]] = []
        self._stream = stream if stream is not None else self._open()
        self._own = stream is None and self.name != "-"
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
    def extension(self) -> str:
        return Path(self.name).suffix.lower()

    def peek(self, n: int) -> list[tuple[int, str]]:
        """The next n lines (fewer at the end), still to be served by iteration."""
        it = self._read()
        while len(self._ahead) < n:
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
                raw = f.readline(self.limit + 1)
            except OSError as exc:
                raise DataFileError(f"{self.name}: cannot be read ({exc.strerror})") from None
            if not raw:
                return
            self.number += 1
            self.bytes += len(raw)
            if self.number == 1:
                raw = self._start(raw)
            if b"\0" in raw:
                raise DataFileError(f"{self.name}, line {self.number}: a NUL byte; this looks "
                                    f"like a binary file, not UTF-8 text")
            if len(raw) > self.limit:
                too_long = TooLong(f"longer than {self.limit:,} bytes")
                too_long.quotes = self._skip_rest(raw)
                yield self.number, too_long
                continue
            try:
                yield self.number, raw.decode("utf-8")
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
        while not raw.endswith(b"\n"):
            raw = self._stream.readline(1 << 20)
            self.bytes += len(raw)
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


# ---- records ---------------------------------------------------------------------------------

def _shown(names: Sequence[object]) -> str:
    """What a header or a JSON object holds, quoted and shortened, for error messages."""
    cut = [str(n) if len(str(n)) <= 30 else str(n)[:27] + "..." for n in names[:8]]
    more = f" and {len(names) - 8} more" if len(names) > 8 else ""
    return ", ".join(json.dumps(n, ensure_ascii=False) for n in cut) + more if cut else "nothing"


def _wanted(wanted: Sequence[str], noun: str) -> str:
    """'the "label" and "text" columns', 'the "text" column'."""
    return "the " + " and ".join(f'"{w}"' for w in wanted) + f" {noun}" + "s" * (len(wanted) > 1)


def parse_label(value: object) -> int | None:
    """1 (positive) or 0 (negative) for 0/1, neg/pos, negative/positive in any case; else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value in (0, 1) else None
    return LABELS.get(value.strip().lower()) if isinstance(value, str) else None


def _csv_records(source: Source) -> Iterator[tuple[int, str]]:
    """(first line, raw text) of each CSV record: lines joined while a quote is open. A record
    over the limit is read past, never kept; an unclosed quote at the end is one bad record."""
    start, parts, size, quotes, too_long = 0, [], 0, 0, None
    for n, line in source:
        if not parts and too_long is None:
            start = n
        if isinstance(line, TooLong):
            too_long, parts, quotes = line, [], quotes + line.quotes
        else:
            quotes += line.count('"')
            size += len(line)
        if size > source.limit:
            too_long, parts = TooLong(f"longer than {source.limit:,} bytes"), []
        elif too_long is None:
            parts.append(line)
        if quotes % 2 == 0:
            yield start, too_long if too_long is not None else "".join(parts)
            parts, size, quotes, too_long = [], 0, 0, None
    if parts or too_long is not None:
        yield start, too_long if too_long is not None else Bad("a quoted field is never closed")


def _tabular(source: Source, delimiter: str, wanted: Sequence[str], headerless: bool):
    """(first line, values or why malformed) of each CSV/TSV record after the header. Only an
    empty line is not a record; a line of spaces or `""` is one."""
    columns, width = None, 0
    raw_records = _csv_records(source) if delimiter == "," else iter(source)
    for start, raw in raw_records:
        if isinstance(raw, Bad):
            yield start, str(raw)
            continue
        if raw in ("\n", "\r\n", ""):
            continue
        if delimiter == ",":
            try:
                rows = list(csv.reader([raw], strict=True))
            except csv.Error as exc:
                yield start, f"not valid CSV ({exc})"
                continue
            row = rows[0] if rows else []
        else:
            row = raw.rstrip("\r\n").split("\t")
        if columns is None:
            names = [name.strip().lower() for name in row]
            if all(w in names for w in wanted):
                columns, width = {w: names.index(w) for w in wanted}, len(row)
                continue
            if not (headerless and len(row) >= 2 and parse_label(row[0]) is not None):
                kind = "header" if delimiter == "," or not headerless else "first line"
                raise DataFileError(f"{source.name}: cannot find {_wanted(wanted, 'column')}; "
                                    f"the {kind} has {_shown(row)}")
            columns = "headerless"
        if columns == "headerless":
            if len(row) < 2:
                yield start, "no tab between the label and the text"
            else:  # label<TAB>text; a tab inside the text stays part of it
                yield start, {"label": row[0], "text": "\t".join(row[1:])}
        elif len(row) != width:
            yield start, f"{len(row)} fields where the header has {width}"
        else:
            yield start, {w: row[i] for w, i in columns.items()}


def _jsonl(source: Source, wanted: Sequence[str]):
    """(line, values or why malformed) of each JSON Lines record; blank lines are not records.
    The first object must name the wanted keys."""
    checked = False
    for n, line in source:
        if isinstance(line, TooLong):
            yield n, str(line)
            continue
        if not line.strip():
            continue
        try:
            obj = json.loads(line.rstrip("\r\n"))  # so an error's column is on this line
        except json.JSONDecodeError as exc:
            yield n, f"not valid JSON ({exc.msg} at column {exc.colno})"
            continue
        except RecursionError:
            yield n, "not usable JSON (nested too deeply)"
            continue
        except ValueError as exc:  # an integer of thousands of digits, say
            yield n, f"not usable JSON ({str(exc).split(';')[0]})"
            continue
        if not isinstance(obj, dict):
            yield n, f"a JSON {type(obj).__name__}, not an object"
            continue
        missing = [w for w in wanted if w not in obj]
        if missing and not checked:
            raise DataFileError(f"{source.name}: cannot find {_wanted(wanted, 'key')}; line {n} "
                                f"has {_shown(list(obj))}")
        checked = True
        yield n, f'no "{missing[0]}" key' if missing else {w: obj[w] for w in wanted}


def records(source: Source, fmt: str, wanted: Sequence[str]):
    """(line, {name: value} or a string saying why the record is malformed), in input order."""
    if fmt == "lines":  # every line is a text, blank ones included
        return ((n, str(line) if isinstance(line, TooLong) else {"text": line.rstrip("\r\n")})
                for n, line in source)
    if fmt == "jsonl":
        return _jsonl(source, wanted)
    return _tabular(source, "," if fmt == "csv" else "\t", wanted, headerless="label" in wanted)


def detect_format(source: Source, labelled: bool, input_format: str = "auto") -> str:
    """The given format; else by extension; else a labelled input by its first non-blank line
    (read ahead on the same stream), and unlabelled input as one text a line."""
    if input_format != "auto":
        return input_format
    fmt = EXTENSIONS.get(source.extension)
    if fmt or not labelled:
        return fmt or "lines"
    first = next((line for _, line in source.peek(SNIFF_LINES)
                  if isinstance(line, TooLong) or line.strip()), None)
    if first is None:
        raise DataFileError(f"{source.name}: the file is empty")
    if isinstance(first, TooLong):
        raise DataFileError(f"{source.name}: cannot tell the format: the first line is {first}")
    if first.lstrip().startswith("{"):
        return "jsonl"
    if "\t" in first:
        return "tsv"
    if "," in first:
        return "csv"
    raise DataFileError(f"{source.name}: cannot tell the format: the first line has no tab or "
                        f"comma and is not JSON (use .csv, .tsv or .jsonl, or --input-format)")


def read_whole_text(name: str | os.PathLike, limit: int = RECORD_LIMIT) -> str:
    """All of an input as one text (inspect -), at most `limit` bytes, checked as it is read."""
    parts, size = [], 0
    with Source(name, limit) as source:
        for n, line in source:
            size += len(line)
            if isinstance(line, TooLong) or size > limit:
                raise DataFileError(f"{source.name}: longer than {limit:,} bytes")
            parts.append(line)
    return "".join(parts)


# ---- labelled texts (evaluate --data) --------------------------------------------------------

@dataclass
class LabelledTexts:
    name: str  # the input, as named in messages
    texts: list[str]
    labels: np.ndarray  # (n,) int32, 1 = positive
    format: str  # csv, tsv or jsonl
    skipped: int = 0  # malformed rows left out with skip_bad
    first_skipped: str | None = None  # "line N: why" of the first of them


def _labelled_row(values: dict) -> tuple[int, str] | str:
    y = parse_label(values["label"])
    text = values["text"]
    if y is None:
        shown = json.dumps(values["label"], ensure_ascii=False)[:40]
        return f"the label {shown} is not 0/1, neg/pos or negative/positive"
    if not isinstance(text, str):
        return "the text is not a string"
    if not tokenize(text):
        return "the text has no words"
    return y, text


def read_labelled(path: str | Path, skip_bad: bool = False, input_format: str = "auto",
                  limit: int = RECORD_LIMIT) -> LabelledTexts:
    """Labelled texts from a CSV, TSV or JSON Lines file, pipe or `-`; malformed rows stop it,
    or are counted and skipped with skip_bad. Blank lines are ignored."""
    with Source(path, limit) as source:
        fmt = detect_format(source, True, input_format)
        if fmt == "lines":
            raise DataFileError(f"{source.name}: a labelled file is CSV, TSV or JSON Lines, "
                                f"not one text a line")
        out = LabelledTexts(source.name, [], np.empty(0, np.int32), fmt)
        labels = []
        for line, values in records(source, fmt, ("label", "text")):
            row = _labelled_row(values) if isinstance(values, dict) else values
            if isinstance(row, str):
                if not skip_bad:
                    raise DataFileError(f"{source.name}, line {line}: {row} (--skip-bad skips "
                                        f"such rows)")
                out.skipped += 1
                out.first_skipped = out.first_skipped or f"line {line}: {row}"
                continue
            labels.append(row[0])
            out.texts.append(row[1])
    if not out.texts:
        if not out.skipped and not source.number:
            raise DataFileError(f"{source.name}: the file is empty")
        why = f"; {out.skipped:,} malformed row(s) skipped" if out.skipped else ""
        raise DataFileError(f"{source.name}: no labelled texts{why}")
    out.labels = np.asarray(labels, dtype=np.int32)
    return out


# ---- texts to classify (predict --file) -------------------------------------------------------

def read_texts(source: Source, input_format: str = "auto", skip_bad: bool = False,
               skipped: list | None = None) -> Iterator[str | None]:
    """Every record's text, in order: one per record. A malformed record stops it with its line
    number, or with skip_bad gives None (its row will say unknown) and is noted in `skipped`
    as "line N: why"."""
    fmt = detect_format(source, False, input_format)
    for line, values in records(source, fmt, ("text",)):
        if isinstance(values, dict) and not isinstance(values["text"], str):
            values = "the text is not a string"
        if isinstance(values, str):
            if not skip_bad:
                raise DataFileError(f"{source.name}, line {line}: {values} (--skip-bad gives "
                                    f"such records the label unknown)")
            if skipped is not None:
                skipped.append(f"line {line}: {values}")
            yield None
            continue
        yield values["text"]
