"""Which parts of a record are the text and the label, and what a label value means.

    record -> {"text": ..., "label": ...} (Columns) -> 1 / 0 / left out (LabelMap)

Column (or JSON key) names are found by the name given (--text-column, --label-column) or
among the common names; label values are 0/1, neg/pos, negative/positive, or the values given
with --positive and --negative.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sentiment_rnn.errors import DataFileError

LABELS = {"0": 0, "neg": 0, "negative": 0, "1": 1, "pos": 1, "positive": 1}
COMMON_NAMES = {"text": ("text", "review", "sentence", "content"),
                "label": ("label", "sentiment", "polarity", "target")}


def _shown(names: Sequence[object]) -> str:
    """What a header or a JSON object holds, quoted and shortened, for error messages."""
    cut = [str(n) if len(str(n)) <= 30 else str(n)[:27] + "..." for n in names[:8]]
    more = f" and {len(names) - 8} more" if len(names) > 8 else ""
    return ", ".join(json.dumps(n, ensure_ascii=False) for n in cut) + more if cut else "nothing"


@dataclass(frozen=True)
class Columns:
    """Which column (or JSON key) holds each role, "text" and "label": the name given, else the
    first of the common names that is there (text, review, sentence, content; label,
    sentiment, polarity, target). Names match whatever their case."""

    text: str | None = None
    label: str | None = None

    def __post_init__(self):
        if self.text and self.label and _same(self.text, self.label):
            raise DataFileError(_one_column(self.text))

    def find(self, names: Sequence[object], roles: Sequence[str], noun: str,
             where: str) -> dict[str, object]:
        """role -> the name as it is in `names`; a DataFileError naming what is missing."""
        lowered = {str(n).strip().lower(): n for n in reversed(list(names))}
        found, missing = {}, []
        for role in roles:
            given = getattr(self, role)
            candidates = (given,) if given else COMMON_NAMES[role]
            hit = next((c.strip().lower() for c in candidates
                        if c.strip().lower() in lowered), None)
            if hit is None:
                missing.append(f'the "{given}" {noun}' if given else
                               f"a {role} {noun} ({', '.join(COMMON_NAMES[role])}; or name "
                               f"it with --{role}-column)")
            else:
                found[role] = lowered[hit]
        if missing:
            raise DataFileError(f"cannot find {' and '.join(missing)}; {where} has "
                                f"{_shown(list(names))}")
        if "text" in found and "label" in found and found["text"] == found["label"]:
            raise DataFileError(_one_column(found["text"]))  # one given, the other found
        return found


def _same(a: str, b: str) -> bool:
    """Whether two column names given match the same column (as `Columns.find` matches)."""
    return a.strip().lower() == b.strip().lower()


def _one_column(name: object) -> str:
    return (f"--text-column and --label-column name the same column "
            f"{json.dumps(str(name), ensure_ascii=False)}")


@dataclass(frozen=True)
class LabelMap:
    """Label values -> 1 (positive) or 0 (negative). By default 0/1, neg/pos and
    negative/positive in any case, anything else malformed; with `positive` and `negative`
    given (such as star ratings 4,5 and 1,2), those values, and any other value is not
    malformed but left out and counted."""

    positive: tuple[str, ...] = ()
    negative: tuple[str, ...] = ()

    @property
    def custom(self) -> bool:
        return bool(self.positive or self.negative)

    def __post_init__(self):
        norm = lambda values: tuple(label_text(v) for v in values)  # noqa: E731
        object.__setattr__(self, "positive", norm(self.positive))
        object.__setattr__(self, "negative", norm(self.negative))
        both = set(self.positive) & set(self.negative)
        if both:
            raise DataFileError(f"{', '.join(sorted(both))} cannot be both positive and "
                                f"negative")
        check_label_pair(self.positive, self.negative)

    def parse(self, value: object) -> int | None:
        """1, 0, or None for a value outside the map."""
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            return None
        key = label_text(value)
        if not self.custom:
            return LABELS.get(key)
        return 1 if key in self.positive else 0 if key in self.negative else None

    def describe(self) -> str:
        if not self.custom:
            return "0/1, neg/pos or negative/positive"
        return f"positive {','.join(self.positive)}, negative {','.join(self.negative)}"


def data_line(stats, n: int | None = None, what: str = "Data") -> str:
    """What was read from a labelled file (readers.LabelledTexts), as `train` and `evaluate`
    print it: 'Data: d.csv (CSV, 80 labelled texts; 7 rows with other labels left out (3: 7))',
    malformed rows skipped too; `n` the texts used when not all were kept."""
    return f"{what}: {stats.name} ({stats.format.upper()}, {stats.summary(n)})"


def columns_line(found: dict, labels: LabelMap) -> str:
    """The columns (or keys) read and what their label values mean: 'Columns: text "review",
    label "stars"; labels: positive 4,5, negative 1,2'."""
    def shown(name):  # a headerless TSV's columns are numbers
        return f"column {name + 1}" if isinstance(name, int) else json.dumps(name,
                                                                           ensure_ascii=False)

    cols = ", ".join(f"{role} {shown(found[role])}" for role in ("text", "label")
                     if role in found)
    return f"Columns: {cols or 'none found'}; labels: {labels.describe()}"


def check_label_pair(positive: Sequence[object], negative: Sequence[object]) -> None:
    """The one rule of --positive and --negative (positive= and negative= in Python): give both
    or neither, for a map of one side only would read every row as the same label. Raises
    DataFileError; the command line shows it as a usage error."""
    if bool(positive) != bool(negative):
        raise DataFileError("give both --positive and --negative, or neither")


def label_text(value: object) -> str:
    """A label value as compared: stripped, lower case; 4.0 reads as 4."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip().lower()


def label_values(value: object, name: str = "label values") -> tuple[str, ...]:
    """--positive/--negative values as given on the command line or to the Python API -> a
    tuple of label texts: None -> (); "4,5" -> ("4", "5") (a string is comma-separated, never
    a sequence of characters); 5 or 4.5 -> ("5",) or ("4.5",); a list, tuple or set of those.
    A TypeError for anything else (bytes, a dict, a bool, NaN, a nested list); a ValueError
    when no value is left."""
    if value is None or (isinstance(value, (list, tuple, set, frozenset)) and not value):
        return ()  # not given
    items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
    if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset, range)):
        items = [value]
    out = []
    for item in items:
        if isinstance(item, str):
            out += [v.strip() for v in item.split(",") if v.strip()]
        elif isinstance(item, numbers.Integral) and not isinstance(item, (bool, np.bool_)):
            out.append(str(int(item)))
        elif isinstance(item, float) and math.isfinite(item):
            out.append(label_text(item))
        else:
            raise TypeError(f"{name} must be a string such as \"4,5\", a number, or a list of "
                            f"them; got {type(item).__name__} {_short(item)}")
    if not out:
        raise ValueError("give one or more comma-separated label values")
    return tuple(out)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def parse_label(value: object) -> int | None:
    """1 (positive) or 0 (negative) for 0/1, neg/pos, negative/positive in any case; else None."""
    return LabelMap().parse(value)
