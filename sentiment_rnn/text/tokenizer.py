"""Text -> tokens: the one tokenizer, shared by training, Keras, NumPy, evaluation and the page.

standardize: Unicode NFKC (after cutting any run of more than 30 combining marks to 30, UAX
#15's stream-safe limit, so that its cost stays linear in the text's length), lowercase,
`<br />` removed, apostrophes dropped inside words (`don't` -> `dont`, so negations stay one
token), other punctuation removed; then split on whitespace.

Not Keras' TextVectorization: the NumPy path (predict, inspect, the web page) must tokenize
without importing TensorFlow.
"""

from __future__ import annotations

import re
import unicodedata

BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)  # IMDB's line breaks: a space to the tokenizer
_APOSTROPHE = re.compile(r"['\u2019\u2018`]")
_PUNCT = re.compile(r"[^\w\s]|_")


STREAM_SAFE = 30  # UAX #15: no more than 30 non-starters in a row; a longer run is never a word
_RUN: re.Pattern | None = None  # built on the first text that needs it (about 0.1 s)


def _long_runs() -> re.Pattern:
    """Runs of more than STREAM_SAFE characters whose NFKD starts with a non-starter
    (combining class > 0): the only input on which NFKC takes more than linear time. Every
    such character lies below U+20000 (a test checks the whole range)."""
    global _RUN
    if _RUN is None:
        comb, nfkd = unicodedata.combining, unicodedata.decomposition
        marks = [c for c in map(chr, range(0x300, 0x20000)) if comb(c) or (
            nfkd(c) and comb(unicodedata.normalize("NFKD", c)[0]))]
        _RUN = re.compile(f"[{''.join(map(re.escape, marks))}]{{{STREAM_SAFE + 1},}}")
    return _RUN


def stream_safe(text: str) -> str:
    """`text` with each run of more than 30 combining characters cut to its first 30 (UAX
    #15's Stream-Safe Text Format limit), so that NFKC costs linear time: one base with 100,000
    marks takes NFKC minutes. Text without such a run comes back unchanged."""
    if text.isascii() or max(text) < "\u0300":
        return text
    return _long_runs().sub(lambda m: m.group()[:STREAM_SAFE], text)


def standardize(text: str) -> str:
    text = unicodedata.normalize("NFKC", stream_safe(text)).lower()
    text = BREAK.sub(" ", text)
    text = _APOSTROPHE.sub("", text)
    return _PUNCT.sub(" ", text)


def tokenize(text: str) -> list[str]:
    return standardize(text).split()
