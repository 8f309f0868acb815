"""The end of the flow for `predict`: texts -> probabilities -> output rows (text, CSV, JSONL).

    text -> tokens -> ids -> model -> probability -> label -> one output row per input text

A text with no word the model knows (blank, only punctuation, or only out-of-vocabulary words)
gets the label `unknown` and no probability: its probability would be the model's prior,
sigmoid(b_y), which says nothing about the text. Rows are made `CHUNK` texts at a time, so a
stream of any length is classified in constant memory, in input order.

CSV and JSON Lines keep each text byte for byte (UTF-8, written past Click's filter of ANSI
codes), except that a CSV text a spreadsheet would run as a formula gets a ' in front unless
asked not to; the text format is for people, its control characters escaped (terminal.py).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import stat
import sys
from collections.abc import Iterable, Iterator, Sequence

import click
import numpy as np

from sentiment_rnn.errors import SentimentRNNError
from sentiment_rnn.nn.verdict import UNKNOWN, label
from sentiment_rnn.prediction.predictor import Predictor
from sentiment_rnn.text.terminal import encoded, printable

OUTPUT_FORMATS = ("text", "csv", "jsonl")
CHUNK = 1000  # texts read, predicted and written at a time
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may run (OWASP)


def _preview(text: str, width: int = 60) -> str:
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


def _text_cell(text: str, escape_formulas: bool = True) -> str | None:
    """The text as its CSV cell is written, where the csv module would not write it so: one
    a spreadsheet would run as a formula (it starts with =, +, -, @, a tab or a carriage
    return) gets a ' in front, as OWASP recommends, and double quotes around; so does one with
    a carriage return (before Python 3.12 the csv module leaves a lone CR unquoted, which
    ends the row for a reader). None: the csv module writes it."""
    formula = escape_formulas and text.startswith(FORMULA_STARTS)
    if not formula and "\r" not in text:
        return None
    return '"' + ("'" if formula else "") + text.replace('"', '""') + '"'


def _format_rows(texts: Sequence[str | None], probs: np.ndarray, fmt: str = "text",
                threshold: float = 0.5, header: bool = False,
                escape_formulas: bool = True) -> str:
    """Output lines: text = label, probability, first words (control characters escaped);
    csv = label,probability,text (with header, the header line first; with escape_formulas, a
    text a spreadsheet would run gets a ' in front); jsonl = {"text", "label", "probability"}.
    A NaN probability gives the label unknown and no probability; a None text (a skipped
    record) is written as an empty text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header and fmt == "csv":
        writer.writerow(["label", "probability", "text"])
    for text, p in zip(texts, probs):
        text = "" if text is None else text
        known = not math.isnan(p)
        name = label(p, threshold) if known else UNKNOWN
        if fmt == "text":
            out.write(f"{name:<8}  {f'{p:.4f}' if known else '-':<6}  "
                      f"{printable(_preview(text))}".rstrip() + "\n")
        elif fmt == "csv":
            prob = repr(float(p)) if known else ""
            cell = _text_cell(text, escape_formulas)
            if cell is None:
                writer.writerow([name, prob, text])
            else:  # label and probability never need quotes
                out.write(f"{name},{prob},{cell}\n")
        else:
            out.write(json.dumps({"text": text, "label": name,
                                  "probability": float(p) if known else None},
                                 ensure_ascii=False) + "\n")
    return out.getvalue()


def chunk_rows(predictor: Predictor, chunk: Sequence[str | None], fmt: str = "text",
               threshold: float = 0.5, header: bool = False,
               escape_formulas: bool = True) -> tuple[str, int]:
    """The output rows of one chunk of texts and how many of its texts are unknown (a None,
    a malformed record, is counted as such, not here): the one step that turns texts into
    output, in this process or in a worker (parallel.py)."""
    probs = predictor.predict([t if t is not None else "" for t in chunk])
    unknown = sum(1 for t, p in zip(chunk, probs) if t is not None and math.isnan(p))
    return _format_rows(chunk, probs, fmt, threshold, header, escape_formulas), unknown


def chunks_of(texts: Iterable[str | None], chunk_size: int = CHUNK) -> Iterator[list]:
    """The texts `chunk_size` at a time, the last chunk shorter (and no empty one)."""
    chunk: list[str | None] = []
    for text in texts:
        chunk.append(text)
        if len(chunk) == chunk_size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def classify_stream(predictor: Predictor, texts: Iterable[str | None], fmt: str = "text",
                    threshold: float = 0.5, chunk_size: int = CHUNK,
                    counts: dict | None = None, escape_formulas: bool = True) -> Iterator[str]:
    """Output rows for the next `chunk_size` texts at a time, one row per text, in order; the
    header (csv) comes with the first chunk, even when there are no texts. `counts`, if given,
    gets the number of texts and of unknown ones (a malformed record, None, is neither)."""
    first = True
    if counts is not None:
        counts.update(texts=0, unknown=0)
    for chunk in chunks_of(texts, chunk_size):
        rows, unknown = chunk_rows(predictor, chunk, fmt, threshold, first, escape_formulas)
        if counts is not None:
            counts["texts"] += texts_in(chunk)
            counts["unknown"] += unknown
        yield rows
        first = False
    if first:
        yield chunk_rows(predictor, [], fmt, threshold, header=True)[0]


def texts_in(chunk: Sequence[str | None]) -> int:
    """The texts of a chunk that are not malformed records (None)."""
    return sum(1 for t in chunk if t is not None)


# ---- writing them ----------------------------------------------------------------------------

def refuse_output_into(source) -> None:
    """Like cat: refuse to write into the file being read, which would never end."""
    try:
        out = os.fstat(sys.stdout.fileno())
    except (OSError, AttributeError, ValueError):
        return
    if (source.stat is not None and stat.S_ISREG(out.st_mode)
            and (out.st_dev, out.st_ino) == (source.stat.st_dev, source.stat.st_ino)):
        raise SentimentRNNError(f"{source.name}: standard output is this input file; write "
                                f"the results to another file")


def write_chunks(chunks, source=None, fmt: str = "text") -> None:
    """Write and flush each chunk of output as it comes, with a progress bar (bytes read) on
    standard error when that is a terminal, the output is not and the input has a size. csv
    and jsonl are written as UTF-8 bytes, as they are, whatever the locale; text in the
    output's encoding, with an escape for a character it has no byte for."""
    size = source.stat.st_size if source is not None and source.stat is not None and \
        stat.S_ISREG(source.stat.st_mode) else 0

    def write(text: str) -> None:
        click.echo(encoded(text) if fmt == "text" else text.encode("utf-8"), nl=False)

    try:
        if size and sys.stderr.isatty() and not sys.stdout.isatty():
            with click.progressbar(length=size, label="Predicting", file=sys.stderr) as bar:
                for text in chunks:
                    write(text)
                    bar.update(source.bytes - bar.pos)
        else:
            for text in chunks:
                write(text)
    except BrokenPipeError:  # e.g. `| head`: the reader has all it wants
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
