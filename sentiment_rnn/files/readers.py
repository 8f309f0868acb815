"""Users' files in the flow: records -> texts (and labels), the rows a command uses.

    stream (streams.py) -> lines -> records (records.py) -> texts and labels (here) -> tokens -> ...

A labelled file (evaluate --data, train --data) gives (text, label) rows; a file of texts to
classify (predict --file) or to teach with (train --unlabelled) gives one text per record. A
malformed record stops the reading with its line number, or is counted and skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sentiment_rnn.errors import DataFileError
from sentiment_rnn.files.columns import Columns, LabelMap, label_text
from sentiment_rnn.files.records import detect_format, records
from sentiment_rnn.files.streams import RECORD_LIMIT, Source
from sentiment_rnn.text.tokenizer import tokenize


# ---- labelled texts (evaluate --data) --------------------------------------------------------

@dataclass
class LabelledTexts:
    name: str  # the input, as named in messages
    texts: list[str]
    labels: np.ndarray  # (n,) int32, 1 = positive
    format: str  # csv, tsv or jsonl
    skipped: int = 0  # malformed rows left out with skip_bad
    first_skipped: str | None = None  # "line N: why" of the first of them
    other_labels: dict = field(default_factory=dict)  # label value -> rows left out (custom map)
    sha256: str = ""  # of the whole input as read
    columns: dict = field(default_factory=dict)  # role -> the column (or key) read for it

    def summary(self, n: int | None = None) -> str:
        """'1,000 labelled texts; 12 rows with other labels left out (3: 12)' and so on."""
        out = f"{len(self.texts) if n is None else n:,} labelled texts"
        if self.other_labels:
            counts = ", ".join(f"{k}: {v:,}" for k, v in sorted(self.other_labels.items())[:6])
            out += (f"; {sum(self.other_labels.values()):,} rows with other labels left out "
                    f"({counts})")
        if self.skipped:
            rows = "row" if self.skipped == 1 else "rows"
            out += (f"; skipped {self.skipped:,} malformed {rows}, the first at "
                    f"{self.first_skipped}")
        return out


def _text_problem(text: object) -> str | None:
    """Why a record's text cannot be used, or None: not a string, or not Unicode text (a JSON
    escape such as \\ud800 gives a lone surrogate, which no output can encode)."""
    if not isinstance(text, str):
        return "the text is not a string"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            return f"the text holds {text[exc.start]!a}, a lone surrogate, not Unicode text"
    return None


def _labelled_row(values: dict, labels: LabelMap) -> tuple[int, str] | str | None:
    """(label, text), why the row is malformed, or None for a label outside a custom map."""
    y = labels.parse(values["label"])
    text = values["text"]
    if y is None:
        if labels.custom and isinstance(values["label"], (str, int, float)):
            return None
        shown = json.dumps(values["label"], ensure_ascii=True)[:40]
        return f"the label {shown} is not {labels.describe()}"
    if _text_problem(text):
        return _text_problem(text)
    if not tokenize(text):
        return "the text has no words"
    return y, text


class iter_labelled:  # noqa: N801 (used like a function that returns an iterator)
    """(label, text) of every well-formed row of a labelled CSV, TSV or JSON Lines file, pipe
    or `-`, streamed; malformed rows stop it, or are counted and skipped with skip_bad. With a
    custom label map, rows with other label values are left out and counted by value.
    `count` is the rows given so far; `stats` (a LabelledTexts without texts) what was found."""

    def __init__(self, path: str | Path, skip_bad: bool = False, input_format: str = "auto",
                 limit: int = RECORD_LIMIT, columns: Columns = Columns(),
                 labels: LabelMap = LabelMap()):
        self.path, self.skip_bad, self.input_format = path, skip_bad, input_format
        self.limit, self.columns, self.labels = limit, columns, labels
        self.count = 0
        self.stats = LabelledTexts(str(path), [], np.empty(0, np.int32), "")

    def __iter__(self) -> Iterator[tuple[str, int]]:
        out = self.stats
        with Source(self.path, self.limit) as source:
            out.name = source.name
            out.format = fmt = detect_format(source, True, self.input_format)
            if fmt == "lines":
                raise DataFileError(f"{source.name}: a labelled file is CSV, TSV or JSON Lines, "
                                    f"not one text a line")
            for line, values in records(source, fmt, ("text", "label"), self.columns,
                                        out.columns):
                row = _labelled_row(values, self.labels) if isinstance(values, dict) else values
                if row is None:
                    key = label_text(values["label"])[:20]
                    out.other_labels[key] = out.other_labels.get(key, 0) + 1
                    continue
                if isinstance(row, str):
                    if not self.skip_bad:
                        raise DataFileError(f"{source.name}, line {line}: {row} (--skip-bad "
                                            f"skips such rows)")
                    out.skipped += 1
                    out.first_skipped = out.first_skipped or f"line {line}: {row}"
                    continue
                self.count += 1
                yield row[1], row[0]
            out.sha256 = source.sha256
        if not self.count:
            if not out.skipped and not out.other_labels and not source.number:
                raise DataFileError(f"{source.name}: the file is empty")
            why = f" ({out.summary(0)})" if out.skipped or out.other_labels else ""
            raise DataFileError(f"{source.name}: no labelled texts{why}")

    def describe(self) -> dict:
        """What a run records of its data file: path, sha256 and counts."""
        out = self.stats
        return {"source": out.name, "format": out.format, "sha256": out.sha256,
                "rows": self.count, "skipped_malformed": out.skipped,
                "left_out_other_labels": dict(out.other_labels)}


def read_labelled(path: str | Path, skip_bad: bool = False, input_format: str = "auto",
                  limit: int = RECORD_LIMIT, columns: Columns = Columns(),
                  labels: LabelMap = LabelMap()) -> LabelledTexts:
    """All of `iter_labelled` in memory, as LabelledTexts."""
    rows = iter_labelled(path, skip_bad, input_format, limit, columns, labels)
    texts, ys = [], []
    for text, y in rows:
        texts.append(text)
        ys.append(y)
    out = rows.stats
    out.texts, out.labels = texts, np.asarray(ys, dtype=np.int32)
    return out


# ---- texts to classify (predict --file) -------------------------------------------------------

@dataclass
class Skipped:
    """Malformed records given the label unknown: how many, and the first of them."""

    count: int = 0
    first: str | None = None

    def add(self, line: int, why: str) -> None:
        self.count += 1
        self.first = self.first or f"line {line}: {why}"


def read_texts(source: Source, input_format: str = "auto", skip_bad: bool = False,
               skipped: Skipped | None = None, columns: Columns = Columns()
               ) -> Iterator[str | None]:
    """Every record's text, in order: one per record. A malformed record stops it with its line
    number, or with skip_bad gives None (its row will say unknown) and is counted in
    `skipped`."""
    fmt = detect_format(source, False, input_format)
    for line, values in records(source, fmt, ("text",), columns):
        if isinstance(values, dict):
            values = _text_problem(values["text"]) or values
        if isinstance(values, str):
            if not skip_bad:
                raise DataFileError(f"{source.name}, line {line}: {values} (--skip-bad gives "
                                    f"such records the label unknown)")
            if skipped is not None:
                skipped.add(line, values)
            yield None
            continue
        yield values["text"]


class UnlabelledTexts:
    """The texts of an --unlabelled file (CSV/TSV/JSON Lines by `text_column`, else one a line),
    one per record, streamed: a malformed record (too long, not UTF-8, no text) gives None and
    is counted in `skipped`, for one bad line among many unlabelled texts costs nothing.
    `sha256` is the file's, once it has been read to the end."""

    def __init__(self, path: str | Path, text_column: str | None = None):
        self.path, self.text_column = path, text_column
        self.skipped = Skipped()
        self.sha256 = ""

    def __iter__(self) -> Iterator[str | None]:
        with Source(self.path) as source:
            yield from read_texts(source, skip_bad=True, skipped=self.skipped,
                                  columns=Columns(self.text_column))
            self.sha256 = source.sha256
