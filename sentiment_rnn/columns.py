"""Which parts of a record are the text and the label, and what a label value means.

    record -> {"text": ..., "label": ...} (Columns) -> 1 / 0 / left out (LabelMap)

Column (or JSON key) names are found by the name given (--text-column, --label-column) or
among the common names; label values are 0/1, neg/pos, negative/positive, or the values given
with --positive and --negative.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import DataFileError

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
        return found


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
        if bool(self.positive) != bool(self.negative):
            raise DataFileError("give both --positive and --negative values, or neither")

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


def label_text(value: object) -> str:
    """A label value as compared: stripped, lower case; 4.0 reads as 4."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip().lower()


def parse_label(value: object) -> int | None:
    """1 (positive) or 0 (negative) for 0/1, neg/pos, negative/positive in any case; else None."""
    return LabelMap().parse(value)
