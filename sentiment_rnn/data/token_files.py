"""The scratch files of one `prepare`: texts -> token lines (and sentence lines) -> a vocabulary.

    texts -> tokens.txt (one text a line) and sentences.txt (row<TAB>tokens, one sentence a line)
      -> the vocabulary: label-aware over texts, or over sentences (config.vocab_unit)
      -> the training texts' sentences that the teacher learns and labels (config.labelled_sentences)

Files, not lists: 25,000 reviews or 25 million, memory holds a line at a time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from itertools import groupby
from pathlib import Path

import numpy as np

from sentiment_rnn.config import TrainConfig
from sentiment_rnn.data.checks import line_hashes
from sentiment_rnn.text.sentences import pick, sentence_tokens
from sentiment_rnn.text.tokenizer import tokenize
from sentiment_rnn.text.vocabulary import Vocabulary


def tokenize_to(batches: Iterable[tuple[list, np.ndarray]], path: Path,
                 sentences_path: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Write each text's tokens as one line of `path` (and, with `sentences_path`, each of its
    sentences' tokens as a line `row<TAB>tokens` there); return the labels (int8) and each
    line's hash (checks.line_hash)."""
    labels, hashes = [], []
    row = 0
    with open(path, "w", encoding="utf-8") as f, \
            open(sentences_path or os.devnull, "w", encoding="utf-8") as g:
        for texts, ys in batches:
            lines = [" ".join(tokenize(t)) for t in texts]
            f.writelines(line + "\n" for line in lines)
            if sentences_path is not None:
                for i, text in enumerate(texts, row):
                    g.writelines(f"{i}\t{' '.join(t)}\n" for t in sentence_tokens(text))
            row += len(texts)
            labels.append(np.asarray(ys, dtype=np.int8))
            hashes.append(line_hashes(lines))
    if not labels:
        return np.empty(0, np.int8), np.empty(0, np.uint64)
    return np.concatenate(labels), np.concatenate(hashes)


def sentence_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(row, token line) of each sentence that `_tokenize_to` wrote, in order."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            row, tokens = line.rstrip("\n").split("\t", 1)
            yield int(row), tokens


def lines(path: Path) -> Iterator[str]:
    """The token lines of a scratch file, each a text's tokens joined by spaces."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            yield line.rstrip("\n")


def token_lines(path: Path) -> Iterator[list[str]]:
    for line in lines(path):
        yield line.split()


def reads_sentences(config: TrainConfig, vocab, teacher: bool) -> bool:
    """Whether `prepare` needs each labelled text's sentences: for a vocabulary of sentences,
    or for the teacher to learn from them."""
    return (vocab is None and config.vocab_unit == "sentence") or (
        teacher and config.teacher != "none" and config.labelled_sentences
        and config.teacher_sentences > 0)


def picked(rows: Iterable[tuple[int, str]], n: int,
           rng: np.random.Generator) -> Iterator[tuple[int, str]]:
    """Of (row, sentence) in row order: `pick` of each row's sentences."""
    for row, group in groupby(rows, key=lambda pair: pair[0]):
        for line in pick([t for _, t in group], n, rng):
            yield row, line


def build_vocabulary(config: TrainConfig, tokens_path: Path, sentences_path: Path | None,
                     labels: np.ndarray, is_train: np.ndarray, echo=None) -> Vocabulary:
    """The vocabulary of the training rows: each text a document, or each of its sentences
    (config.vocab_unit "sentence", which needs `sentences_path`). `echo` gets a line naming the
    kept words (config.vocab_keep) that did not fit."""
    if config.vocab_unit == "sentence":
        docs = [(r, t.split()) for r, t in sentence_lines(sentences_path) if is_train[r]]
        vocab = Vocabulary.build((t for _, t in docs), [labels[r] for r, _ in docs],
                                 config.vocab_size, config.vocab_method, config.df_power,
                                 config.vocab_keep)
    else:
        rows = (t for t, v in zip(token_lines(tokens_path), is_train) if v)
        vocab = Vocabulary.build(rows, labels[is_train], config.vocab_size,
                                 config.vocab_method, config.df_power, config.vocab_keep)
    if vocab.kept_left_out and echo:
        shown = ", ".join(vocab.kept_left_out[:10])
        echo(f"{len(vocab.kept_left_out):,} of the words to keep (--vocab-keep) did not fit in "
             f"--vocab-size {config.vocab_size:,}: {shown}"
             + (", ..." if len(vocab.kept_left_out) > 10 else ""))
    return vocab


def training_sentences(config: TrainConfig, sentences_path: Path | None, labels: np.ndarray,
                       is_train: np.ndarray) -> Callable[[], Iterator[tuple[str, int]]] | None:
    """What the teacher learns besides the training texts: (token line, label) of `picked`
    sentences of each training text, drawn from (seed, 4); None when it learns none."""
    if not (config.labelled_sentences and config.teacher_sentences and sentences_path):
        return None

    def rows() -> Iterator[tuple[str, int]]:
        rng = np.random.default_rng([config.seed, 4])  # not the split's or the batches'
        for r, line in picked(sentence_lines(sentences_path), config.teacher_sentences, rng):
            if is_train[r]:
                yield line, int(labels[r])

    return rows
