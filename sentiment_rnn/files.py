"""The user's files at both ends of the flow: file -> texts (and labels), probabilities -> file.

    file -> records -> text (+ label) -> tokens -> ids -> model -> probability -> output rows

Labelled files (`evaluate --data`): CSV or TSV with a header naming `label` and `text`, headerless
TSV `label<TAB>text`, or JSON Lines with `label` and `text` keys. Texts to classify
(`predict --file`): one per line, CSV/TSV with a `text` column, or JSON Lines with a `text` key.
Files are read line by line as UTF-8 through the csv and json modules, so a file of any length
streams in constant memory, and every error names the line where its record starts.
TSV is plain (no quoting: a field holds no tab or newline); CSV is quoted the usual way.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .errors import DataFileError
from .predict import Predictor, label
from .text import tokenize

LABELS = {"0": 0, "neg": 0, "negative": 0, "1": 1, "pos": 1, "positive": 1}
EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
              ".json": "jsonl"}
INPUT_FORMATS = ("auto", "lines", "csv", "tsv", "jsonl")
OUTPUT_FORMATS = ("text", "csv", "jsonl")
UNKNOWN = "unknown"  # the label of a text with no words; it gets no probability
CHUNK = 1000  # texts read, predicted and written at a time by predict_file


class _Lines:
    """A file's lines decoded as UTF-8, counting lines and bytes; a bad byte names its line.

    `stream` reads an already open binary stream (standard input) instead of opening `path`;
    `path` then only names it in messages."""

    def __init__(self, path: Path | str, stream: BinaryIO | None = None):
        self.path = path
        self.stream = stream
        self.number = 0  # lines read so far
        self.bytes = 0  # bytes read so far

    def __iter__(self) -> Iterator[str]:
        if self.stream is not None:
            yield from self._decode(self.stream)
            return
        try:
            f = open(self.path, "rb")
        except OSError as exc:
            raise DataFileError(f"{self.path}: cannot be read ({exc.strerror})") from None
        with f:
            yield from self._decode(f)

    def _decode(self, f: BinaryIO) -> Iterator[str]:
        for raw in f:
            self.number += 1
            self.bytes += len(raw)
            if b"\0" in raw:
                raise DataFileError(f"{self.path}, line {self.number}: a NUL byte; this looks "
                                    f"like a binary file, not UTF-8 text")
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise DataFileError(f"{self.path}, line {self.number}: not valid UTF-8 "
                                    f"(byte {exc.start + 1} of the line)") from None
            yield line.removeprefix("\ufeff") if self.number == 1 else line


def read_text_lines(stream: BinaryIO, name: str = "standard input") -> list[str]:
    """The non-blank lines of a binary stream, decoded as UTF-8 like any input file."""
    return [line.rstrip("\r\n") for line in _Lines(name, stream) if line.strip()]


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


def _tabular(lines: _Lines, delimiter: str, wanted: Sequence[str], headerless: bool):
    """(first line, values or why malformed) of each CSV/TSV record after the header."""
    path = lines.path
    if delimiter == ",":
        reader = csv.reader(lines, strict=True)
    else:
        reader = csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
    columns, width = None, 0
    while True:
        start = lines.number + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, f"not valid CSV ({exc})"
            continue
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # blank lines are not records
        if columns is None:
            names = [name.strip().lower() for name in row]
            if all(w in names for w in wanted):
                columns, width = {w: names.index(w) for w in wanted}, len(row)
                continue
            if not (headerless and len(row) >= 2 and parse_label(row[0]) is not None):
                kind = "header" if delimiter == "," or not headerless else "first line"
                raise DataFileError(f"{path}: cannot find {_wanted(wanted, 'column')}; the "
                                    f"{kind} has {_shown(row)}")
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


def _jsonl(lines: _Lines, wanted: Sequence[str]):
    """(line, values or why malformed) of each JSON Lines record; the first object names keys."""
    checked = False
    for line in lines:
        n = lines.number
        if not line.strip():
            continue
        try:
            obj = json.loads(line.rstrip("\r\n"))  # so an error's column is on this line
        except json.JSONDecodeError as exc:
            yield n, f"not valid JSON ({exc.msg} at column {exc.colno})"
            continue
        if not isinstance(obj, dict):
            yield n, f"a JSON {type(obj).__name__}, not an object"
            continue
        missing = [w for w in wanted if w not in obj]
        if missing and not checked:
            raise DataFileError(f"{lines.path}: cannot find {_wanted(wanted, 'key')}; line {n} "
                                f"has {_shown(list(obj))}")
        checked = True
        yield n, f'no "{missing[0]}" key' if missing else {w: obj[w] for w in wanted}


def _records(lines: _Lines, fmt: str, wanted: Sequence[str]):
    """(line, {name: value} or a string saying why the record is malformed), in file order."""
    if fmt == "lines":  # every line is a text, blank ones included
        return ((lines.number, {"text": line.rstrip("\r\n")}) for line in lines)
    if fmt == "jsonl":
        return _jsonl(lines, wanted)
    return _tabular(lines, "," if fmt == "csv" else "\t", wanted, headerless="label" in wanted)


def detect_format(path: Path, labelled: bool) -> str:
    """By extension; else a labelled file by its first line, a text file as one text a line."""
    fmt = EXTENSIONS.get(path.suffix.lower())
    if fmt or not labelled:
        return fmt or "lines"
    try:
        with open(path, "rb") as f:
            first = next((raw for raw in f if raw.strip()), b"").decode("utf-8", "replace")
    except OSError as exc:
        raise DataFileError(f"{path}: cannot be read ({exc.strerror})") from None
    if not first:
        raise DataFileError(f"{path}: the file is empty")
    if first.lstrip().startswith("{"):
        return "jsonl"
    if "\t" in first:
        return "tsv"
    if "," in first:
        return "csv"
    raise DataFileError(f"{path}: cannot tell the format: the first line has no tab or comma and "
                        f"is not JSON (use .csv, .tsv or .jsonl)")


@dataclass
class LabelledTexts:
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


def read_labelled(path: str | Path, skip_bad: bool = False) -> LabelledTexts:
    """Labelled texts from a CSV, TSV or JSON Lines file; malformed rows stop it, or are counted
    and skipped with skip_bad. Blank lines are ignored."""
    path = Path(path)
    fmt = detect_format(path, labelled=True)
    out = LabelledTexts([], np.empty(0, np.int32), fmt)
    labels = []
    for line, values in _records(_Lines(path), fmt, ("label", "text")):
        row = _labelled_row(values) if isinstance(values, dict) else values
        if isinstance(row, str):
            if not skip_bad:
                raise DataFileError(f"{path}, line {line}: {row} (--skip-bad skips such rows)")
            out.skipped += 1
            out.first_skipped = out.first_skipped or f"line {line}: {row}"
            continue
        labels.append(row[0])
        out.texts.append(row[1])
    if not out.texts:
        why = f"; {out.skipped:,} malformed row(s) skipped" if out.skipped else ""
        raise DataFileError(f"{path}: no labelled texts{why}")
    out.labels = np.asarray(labels, dtype=np.int32)
    return out


def preview(text: str, width: int = 60) -> str:
    """The text's first words, on one line, at most `width` characters."""
    words = text.split()
    flat = " ".join(words)
    if len(flat) <= width:
        return flat
    kept = ""
    for word in words:
        if len(kept) + len(word) + 1 > width - 3:
            break
        kept = f"{kept} {word}" if kept else word
    return (kept or flat[: width - 3]) + "..."


def probabilities(predictor: Predictor, texts: Sequence[str]) -> np.ndarray:
    """P(positive) of each text, NaN for a text with no words (blank, only punctuation)."""
    tokens = [tokenize(t) for t in texts]
    keep = [i for i, t in enumerate(tokens) if t]
    probs = np.full(len(texts), np.nan)
    if keep:
        probs[keep] = predictor.predict_ids(predictor.ids_of_tokens([tokens[i] for i in keep]))
    return probs


def format_rows(texts: Sequence[str], probs: np.ndarray, fmt: str = "text",
                threshold: float = 0.5, header: bool = False) -> str:
    """Output lines: text = label, probability, first words; csv = label,probability,text (with
    header, the header line first); jsonl = {"text", "label", "probability"}. A NaN probability
    gives the label unknown and no probability."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header and fmt == "csv":
        writer.writerow(["label", "probability", "text"])
    for text, p in zip(texts, probs):
        known = not np.isnan(p)
        name = label(p, threshold) if known else UNKNOWN
        if fmt == "text":
            out.write(f"{name:<8}  {f'{p:.4f}' if known else '-':<6}  {preview(text)}".rstrip()
                      + "\n")
        elif fmt == "csv":
            writer.writerow([name, repr(float(p)) if known else "", text])
        else:
            out.write(json.dumps({"text": text, "label": name,
                                  "probability": float(p) if known else None},
                                 ensure_ascii=False) + "\n")
    return out.getvalue()


def predict_file(predictor: Predictor, path: str | Path, out_format: str = "text",
                 threshold: float = 0.5, input_format: str = "auto",
                 chunk_size: int = CHUNK) -> Iterator[tuple[str, int]]:
    """(output rows of the next `chunk_size` records, bytes of the file read so far): one row
    per record, in order, for the caller to write as they come. Memory stays constant."""
    path = Path(path)
    fmt = detect_format(path, labelled=False) if input_format == "auto" else input_format
    lines = _Lines(path)
    chunk: list[str] = []
    first = True
    for line, values in _records(lines, fmt, ("text",)):
        if isinstance(values, dict) and not isinstance(values["text"], str):
            values = "the text is not a string"
        if isinstance(values, str):
            raise DataFileError(f"{path}, line {line}: {values}")
        chunk.append(values["text"])
        if len(chunk) == chunk_size:
            yield format_rows(chunk, probabilities(predictor, chunk), out_format, threshold,
                              header=first), lines.bytes
            chunk, first = [], False
    if chunk or first:
        yield format_rows(chunk, probabilities(predictor, chunk), out_format, threshold,
                          header=first), lines.bytes
