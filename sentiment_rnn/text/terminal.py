"""What the data may put on a terminal: nothing that acts, and nothing it cannot encode.

Text written for people (predict's text format, inspect's table, evaluate's summary, notes and
error lines) shows the data's control characters escaped, as Python writes them (`\\x1b`,
`\\x07`, `\\u202e`), so a review cannot retitle the terminal, move the cursor or reorder what
follows it: C0 and C1 controls, DEL, line and paragraph separators, the bidirectional controls
and lone surrogates (invalid UTF-8 in an argument). Other text, accents, scripts and emoji
included, is shown as it is. A character the output's encoding has no byte for
(PYTHONIOENCODING=latin-1, say) is written as the same kind of escape instead of failing.

CSV and JSON Lines are data, not text for people: they are written as UTF-8, byte for byte
(`output.py`).
"""

from __future__ import annotations

import re
import sys

import click

# C0, DEL, C1, the bidirectional controls (ALM, LRM, RLM, LRE..RLO, LRI..PDI), line and
# paragraph separators, and surrogates
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069"
                     "\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(ch: str) -> str:
    code = ord(ch)
    return _SHORT.get(ch) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def printable(text: str, keep: str = "") -> str:
    """The text with every control character escaped, except those in `keep` (say "\\n" for
    text of several lines)."""
    return _UNSAFE.sub(lambda m: m.group() if m.group() in keep else _escape(m.group()), text)


def printable_trace(report: dict) -> dict:
    """inspect's trace (inside.trace) with its model path and words printable, for its table."""
    return dict(report, model=printable(report["model"]),
                oov_words=[printable(w) for w in report["oov_words"]],
                tokens=[dict(r, word=printable(r["word"])) for r in report["tokens"]])


def not_utf8(text: str) -> bool:
    """Whether a text holds a lone surrogate: an argument that was not valid UTF-8, which no
    output can hold."""
    return not text.isascii() and _SURROGATE.search(text) is not None


def encoded(text: str, stream=None) -> bytes:
    """The text in the encoding of `stream` (standard output), with a backslash escape for
    each character it cannot encode."""
    stream = sys.stdout if stream is None else stream
    encoding = getattr(stream, "encoding", None) or "utf-8"
    return text.encode(encoding, "backslashreplace")


def echo_text(text: str, nl: bool = True, keep: str = "\n", err: bool = False) -> None:
    """Write text for people: control characters escaped (but `keep`), then encoded for the
    stream whatever its encoding."""
    stream = sys.stderr if err else sys.stdout
    click.echo(encoded(printable(text, keep) + ("\n" if nl else ""), stream), nl=False,
               err=err)
