"""Users' files in the flow: checked lines -> records, each {text, label} or why it is malformed.

    stream (streams.py) -> lines -> records (here) -> texts and labels (readers.py) -> tokens -> ...

Formats: one text per line; CSV (quoted the usual way: a record may span lines) or TSV (plain,
a record is a line) with a header naming the columns; headerless TSV `label<TAB>text`; JSON
Lines. The format is given, or found by the extension, or (for a labelled input) by looking
ahead at its first lines on the same stream. A CSV record is found by its quotes before it is
parsed, so a malformed record is skipped whole and parsing never resumes inside a quoted field.
Every record gives exactly one text (or one reason why it is malformed), in input order. A
.json file is read as JSON Lines; one that holds a single JSON document (an array, or an object
over several lines) is named as such.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator, Sequence

from sentiment_rnn.errors import DataFileError
from sentiment_rnn.files.columns import Columns, parse_label
from sentiment_rnn.files.streams import Bad, Source, TooLong

EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
              ".json": "jsonl", ".txt": None}
INPUT_FORMATS = ("auto", "lines", "csv", "tsv", "jsonl")
SNIFF_LINES = 64  # most lines looked at (and buffered) to find a labelled file's format
csv.field_size_limit(sys.maxsize if sys.maxsize < 2**63 else 2**62)  # records are capped anyway


def _inside_quotes(line: str, inside: bool) -> bool:
    """Whether a CSV record is still inside a quoted field after `line`, as the csv module
    reads it: a quote opens a field only at its start (the line's start or after a comma),
    `""` inside is a quote, and any other quote is a plain character."""
    i, n = 0, len(line)
    while i < n:
        j = line.find('"', i)
        if j < 0:
            return inside
        if inside:
            if line.startswith('""', j):
                i = j + 2
                continue
            inside = False
        elif j == 0 or line[j - 1] == ",":
            inside = True
        i = j + 1
    return inside


def _size(line: str) -> int:
    return len(line) if line.isascii() else len(line.encode("utf-8"))


def _csv_records(source: Source) -> Iterator[tuple[int, str]]:
    """(first line, raw text) of each CSV record: lines joined while a quoted field is open. A
    record over the limit is read past, never kept; an unclosed quote at the end is one bad
    record."""
    start, parts, size, inside, too_long = 0, [], 0, False, None
    for n, line in source:
        if not parts and too_long is None:
            start = n
        if isinstance(line, TooLong):  # its quotes were counted, not parsed: close enough
            too_long, parts = line, []
            inside = inside != (line.quotes % 2 == 1)
        else:
            inside = _inside_quotes(line, inside)
            size += _size(line)
        if size > source.limit:
            too_long, parts = TooLong(f"longer than {source.limit:,} bytes"), []
        elif too_long is None:
            parts.append(line)
        if not inside:
            yield start, too_long if too_long is not None else "".join(parts)
            parts, size, too_long = [], 0, None
    if parts or too_long is not None:
        yield start, too_long if too_long is not None else Bad("a quoted field is never closed")


def _tabular(source: Source, delimiter: str, roles: Sequence[str], columns_spec: Columns,
             headerless: bool, names: dict):
    """(first line, values or why malformed) of each CSV/TSV record after the header. Only an
    empty line is not a record; a line of spaces or `""` is one. `names` gets role -> the
    column's name (its 0-based number in a headerless file)."""
    columns, width = None, 0
    raw_records = _csv_records(source) if delimiter == "," else iter(source)
    for start, raw in raw_records:
        if isinstance(raw, Bad):
            yield start, str(raw)
            continue
        if not raw.strip("\r\n"):
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
            if headerless and len(row) >= 2 and parse_label(row[0]) is not None:
                columns = "headerless"
                names.update(label=0, text=1)
            else:
                kind = "header" if delimiter == "," or not headerless else "first line"
                try:
                    found = columns_spec.find(row, roles, "column", f"the {kind}")
                except DataFileError as exc:
                    raise DataFileError(f"{source.name}: {exc}") from None
                columns, width = {r: row.index(name) for r, name in found.items()}, len(row)
                names.update(found)
                continue
        if columns == "headerless":
            if len(row) < 2:
                yield start, "no tab between the label and the text"
            else:  # label<TAB>text; a tab inside the text stays part of it
                yield start, {"label": row[0], "text": "\t".join(row[1:])}
        elif len(row) != width:
            yield start, f"{len(row)} fields where the header has {width}"
        else:
            yield start, {w: row[i] for w, i in columns.items()}


def _jsonl(source: Source, roles: Sequence[str], columns_spec: Columns, found: dict):
    """(line, values or why malformed) of each JSON Lines record; blank lines are not records.
    The first object decides the keys."""
    keys, first = None, True
    for n, line in source:
        if isinstance(line, TooLong):
            yield n, str(line)
            continue
        if not line.strip():
            continue
        if first:
            _one_json_document(source, line)
            first = False
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
        if keys is None:
            try:
                keys = columns_spec.find(list(obj), roles, "key", f"line {n}")
            except DataFileError as exc:
                raise DataFileError(f"{source.name}: {exc}") from None
            found.update(keys)
        missing = [k for k in keys.values() if k not in obj]
        yield n, f'no "{missing[0]}" key' if missing else {r: obj[k] for r, k in keys.items()}


def _one_json_document(source: Source, line: str) -> None:
    """Refuse, by its first record, a file that holds one JSON array or one object written over
    several lines (as a .json file often does) rather than JSON Lines: as a whole, whatever
    --skip-bad says, for its every line would be malformed."""
    start = line.strip()
    if start.startswith("["):
        what, jq = "one JSON array", ".[]"
    elif start.startswith("{") and start.endswith(("{", "[", ",", ":")):  # it goes on
        what, jq = "one JSON object over several lines", "."
    else:
        return  # one line: a record, with its own error if it is malformed
    raise DataFileError(f"{source.name}: holds {what}; use JSON Lines, one object per line "
                        f"(jq -c '{jq}' writes them)")


def records(source: Source, fmt: str, roles: Sequence[str], columns: Columns = Columns(),
            found: dict | None = None):
    """(line, {role: value} or a string saying why the record is malformed), in input order;
    roles are "text", and "label" for a labelled file. `found` gets the names of the columns
    (or keys) read for each role."""
    found = {} if found is None else found
    if fmt == "lines":  # every line is a text, blank ones included
        return ((n, str(line) if isinstance(line, TooLong) else {"text": line.rstrip("\r\n")})
                for n, line in source)
    if fmt == "jsonl":
        return _jsonl(source, roles, columns, found)
    return _tabular(source, "," if fmt == "csv" else "\t", roles, columns,
                    headerless="label" in roles, names=found)


def detect_format(source: Source, labelled: bool, input_format: str = "auto") -> str:
    """The given format; else by extension; else a labelled input by its first non-blank line
    (read ahead on the same stream), and unlabelled input as one text a line."""
    if input_format != "auto":
        return input_format
    fmt = EXTENSIONS.get(source.extension)
    if fmt or not labelled:
        return fmt or "lines"
    # empty lines are skipped, but never more than SNIFF_LINES, and the first line with
    # anything on it (spaces too) decides: the look-ahead holds at most one long line
    first = next((line for _, line in source.peek_until(
        lambda line: isinstance(line, Bad) or line.strip("\r\n"), SNIFF_LINES)
        if isinstance(line, Bad) or line.strip("\r\n")), None)
    if first is None:
        raise DataFileError(f"{source.name}: the file is empty")
    if isinstance(first, Bad):
        raise DataFileError(f"{source.name}: cannot tell the format: the first line is {first}")
    if first.lstrip().startswith(("{", "[")):  # "[": one JSON array, refused by _jsonl
        return "jsonl"
    if "\t" in first:
        return "tsv"
    if "," in first:
        return "csv"
    raise DataFileError(f"{source.name}: cannot tell the format: the first line has no tab or "
                        f"comma and is not JSON (use .csv, .tsv or .jsonl, or --input-format)")
