"""Text -> sentences: where a review is cut into the short texts people type.

    text -> sentences (split after . ! ? and a space, and at line breaks) -> tokens (tokenizer.py)

Used by the teacher's sentence rows (data/distil.py: the RNN also learns to read single
sentences) and by the short-text check (evaluation/short_texts.py: the last sentence of each
validation review). A plain rule, not a parser: "Dr. Smith" is cut too, which costs a few odd
fragments and nothing else.
"""

from __future__ import annotations

import re

from sentiment_rnn.text.tokenizer import BREAK, tokenize

SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _parts(text: str) -> list[str]:
    """A text cut after . ! ? followed by a space, and at line breaks (<br />, new lines)."""
    return [s for part in BREAK.sub("\n", text).split("\n") for s in SENTENCE_END.split(part)]


def sentences(text: str) -> list[str]:
    """The sentences of a text that hold a word, in order."""
    return [s.strip() for s in _parts(text) if tokenize(s)]


def sentence_tokens(text: str) -> list[list[str]]:
    """The tokens of each of `sentences(text)`, each sentence tokenized once."""
    return [tokens for tokens in map(tokenize, _parts(text)) if tokens]


def pick(found: list, n: int, rng) -> list:
    """Up to `n` of a text's sentences `found`, in order, if it has two or more: its last
    (where a review usually sums itself up) and n - 1 others drawn by `rng` (a NumPy
    Generator). None of a one-sentence text: the whole text is that sentence."""
    if n < 1 or len(found) < 2:
        return []
    others = rng.permutation(len(found) - 1)[:n - 1]
    return [found[i] for i in sorted(others)] + [found[-1]]


def last_sentence(text: str) -> str:
    """The last sentence of a text that holds a word ("" when none does)."""
    for part in reversed(BREAK.sub("\n", text).split("\n")):
        for sentence in reversed(SENTENCE_END.split(part)):
            if tokenize(sentence):
                return sentence.strip()
    return ""
