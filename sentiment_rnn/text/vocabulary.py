"""Tokens -> ids: the vocabulary (0 = padding, 1 = out of vocabulary, 2.. = words) and padding.

Sequences keep their *last* `max_len` ids and are padded in front, so the RNN's last state has
read the end of the review. The vocabulary is chosen label-aware (Keras' TextVectorization cannot
do that) and is shared by training, the Keras model and the NumPy pass; files/vocab_file.py reads
it from a run folder.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from sentiment_rnn.errors import RunFolderError
from sentiment_rnn.text.tokenizer import tokenize

PAD, OOV = 0, 1
RESERVED = ("<pad>", "<oov>")


class Vocabulary:
    """An ordered word list; a word's id is its position. Entries 0 and 1 are reserved."""

    def __init__(self, words: Sequence[str]):
        words = list(words)
        if tuple(words[:2]) != RESERVED:
            raise ValueError(f"a vocabulary starts with {RESERVED}")
        self.words = words
        self.index = {w: i for i, w in enumerate(words)}
        self.kept_left_out: list[str] = []  # see build
        if len(self.index) != len(words):
            raise ValueError("a vocabulary has no duplicate words")

    def __len__(self) -> int:
        return len(self.words)

    @classmethod
    def build(cls, token_lists: Sequence[list[str]], labels: Sequence[int] | None,
              size: int, method: str = "label-aware", df_power: float = 0.75,
              keep: Sequence[str] = ()) -> Vocabulary:
        """Choose `size - 2` words from training documents only: the words of `keep` that occur
        in them, whatever their score (the best-scored of them if they are more), then the
        best-scored others.

        "frequency": the most frequent tokens. "label-aware": the tokens with the largest
        |log-odds of appearing in a positive vs a negative review| x document frequency **
        df_power, which keeps frequent words that carry sentiment and drops frequent neutral
        ones; a larger df_power lets more frequent words in (0.75 brings `not` and `but`).
        "pair-aware": the same score over words and adjacent word pairs, a word scoring the
        best of its own and its pairs' (`_label_scores`).
        """
        n_words = size - len(RESERVED)
        if method == "frequency":
            counts = Counter(w for tokens in token_lists for w in tokens)
            ranked = sorted(counts, key=lambda w: (-counts[w], w))
        elif method in ("label-aware", "pair-aware"):
            if labels is None:
                raise ValueError(f"a {method} vocabulary needs labels")
            scores = _label_scores(token_lists, labels, df_power, pairs=method == "pair-aware")
            ranked = sorted(scores, key=lambda w: (-scores[w], w))
        else:
            raise ValueError(f"unknown vocabulary method {method!r}")
        kept = set(keep) & set(ranked)
        others = [w for w in ranked if w not in kept][:max(n_words - len(kept), 0)]
        chosen = kept | set(others)
        vocab = cls(list(RESERVED) + [w for w in ranked if w in chosen][:n_words])
        # kept words that the training documents have but the size left no room for
        vocab.kept_left_out = [w for w in ranked if w in kept and w not in vocab.index]
        return vocab

    def lookup(self, tokens: Iterable[str]) -> list[int]:
        """Token -> id, with OOV (1) for unknown words."""
        return [self.index.get(t, OOV) for t in tokens]

    def text(self) -> str:
        return "\n".join(self.words) + "\n"

    def sha256(self) -> str:
        return hashlib.sha256(self.text().encode("utf-8")).hexdigest()

    @classmethod
    def from_bytes(cls, data: bytes, path: Path) -> Vocabulary:
        """From vocab.txt's bytes (`path` names it in errors)."""
        path = Path(path)
        try:
            lines = data.decode("utf-8").split("\n")
        except UnicodeDecodeError as exc:
            raise RunFolderError(f"{path.parent}: cannot read {path.name} ({exc})") from None
        if lines and lines[-1] == "":
            lines.pop()
        bad = [i + 1 for i, w in enumerate(lines) if not w or w != w.strip() or " " in w]
        if bad:
            raise RunFolderError(f"{path.parent}: {path.name} line {bad[0]} is not a single word")
        try:
            return cls(lines)
        except ValueError as exc:
            raise RunFolderError(f"{path.parent}: {path.name} is not a vocabulary ({exc})") from None


PAIR_DOCS = 100_000  # pair-aware: word pairs are counted in at most this many documents (memory)


def _label_scores(token_lists: Iterable[list[str]], labels: Sequence[int], df_power: float,
                  pairs: bool = False) -> dict[str, float]:
    """Each word's |log-odds of appearing in a positive vs a negative document| x its document
    frequency ** df_power. With `pairs`, adjacent word pairs are scored the same way (in the
    first PAIR_DOCS documents) and a word scores the best of its own score and those of the
    pairs it is in: `good` (as often in negative reviews as in positive ones) comes in through
    `not good` and `very good`, `10` through `10 10` (a rating of 10/10)."""
    df_pos, df_neg = Counter(), Counter()
    n_pos = n_neg = 0
    for i, (tokens, label) in enumerate(zip(token_lists, labels)):
        features = set(tokens)
        if pairs and i < PAIR_DOCS:
            features |= {(a, b) for a, b in zip(tokens, tokens[1:])}
        (df_pos if label == 1 else df_neg).update(features)
        n_pos, n_neg = n_pos + (label == 1), n_neg + (label != 1)

    def score(f) -> float:
        p, n = df_pos[f], df_neg[f]
        log_odds = math.log((p + 1) / (n_pos + 1)) - math.log((n + 1) / (n_neg + 1))
        return abs(log_odds) * (p + n) ** df_power

    scores: dict[str, float] = {}
    for f in df_pos.keys() | df_neg.keys():
        value = score(f)
        for word in (f if isinstance(f, tuple) else (f,)):
            if value > scores.get(word, -1.0):
                scores[word] = value
    return scores


def to_ids(tokens: Sequence[str], vocab: Vocabulary, max_len: int, drop_oov: bool) -> list[int]:
    """The ids the model reads for one token list: OOV dropped or kept, last `max_len` kept."""
    ids = vocab.lookup(tokens)
    if drop_oov:
        ids = [i for i in ids if i != OOV]
    return ids[-max_len:]


def pad(sequences: Sequence[Sequence[int]], length: int | None = None) -> np.ndarray:
    """(batch, time) int32 array, padded with 0 in front. `length` defaults to the longest."""
    if length is None:
        length = max((len(s) for s in sequences), default=0)
    out = np.zeros((len(sequences), max(length, 1)), dtype=np.int32)
    for row, seq in zip(out, sequences):
        seq = seq[-length:] if length else []
        if len(seq):
            row[-len(seq):] = seq
    return out


def encode_tokens(token_lists: Iterable[Sequence[str]], vocab: Vocabulary, max_len: int,
                  drop_oov: bool, length: int | None = None) -> np.ndarray:
    """Token lists -> padded (batch, time) ids. `length` defaults to the longest sequence."""
    return pad([to_ids(t, vocab, max_len, drop_oov) for t in token_lists], length)


def encode(texts: Iterable[str], vocab: Vocabulary, max_len: int, drop_oov: bool,
           length: int | None = None) -> np.ndarray:
    """Texts -> padded (batch, time) ids: the whole text -> ids step in one call."""
    return encode_tokens((tokenize(t) for t in texts), vocab, max_len, drop_oov, length)
