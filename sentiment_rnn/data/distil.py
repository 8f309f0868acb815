"""Knowledge distillation: unlabelled texts -> the teacher's P(positive) and ids, extra rows the RNN
learns from.

    training part (token lines, labels) -> teacher (teacher.py)
    unlabelled texts -> tokens -> the teacher's P(positive)        = the RNN's soft targets
                               -> ids (the run's vocabulary)        = the RNN's inputs

The teacher's probabilities on the 50,000 unlabelled IMDB reviews (the tfds split
`unsupervised`) give the RNN 2.5 times as much text again, with targets that also say how sure
the teacher is. On a user's file the unlabelled texts come from `--unlabelled FILE`; without
them there is nothing to teach. An unlabelled text that is also in the validation part (the
same tokens) is left out, so the model never learns the texts that judge it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path

import numpy as np

from sentiment_rnn.config import TrainConfig
from sentiment_rnn.data.checks import line_hash, line_hashes
from sentiment_rnn.data.id_store import UNLABELLED_FILES, PreparedFiles, ids_dtype
from sentiment_rnn.data.teacher import Teacher, fit_teacher
from sentiment_rnn.text.tokenizer import tokenize
from sentiment_rnn.text.vocabulary import Vocabulary, to_ids

UNLABELLED_SPLIT = "unsupervised"  # the tfds split of unlabelled texts (IMDB has 50,000)
TEACHER_MAX_ROWS = 100_000  # the teacher learns from at most this many training texts (memory)
BATCH = 4096  # unlabelled texts labelled at a time: memory stays bounded
PROGRESS_SECONDS = 10.0  # while reading and labelling unlabelled texts: a line this often


class _Every:
    """Calls echo(make()) at most once every `seconds`: progress lines that stay few."""

    def __init__(self, seconds: float, echo):
        self.seconds, self.echo = seconds, echo
        self.last = time.perf_counter()

    def __call__(self, make) -> None:
        now = time.perf_counter()
        if now - self.last >= self.seconds:
            self.last = now
            self.echo(make())


def why_no_teacher(config: TrainConfig, data_dir) -> str | None:
    """Why the teacher has nothing to label (no unlabelled texts), or None: asked before the
    vocabulary is built, whose df power depends on whether a teacher is used."""
    if config.data is None:
        from sentiment_rnn.data.imdb import split_names

        if UNLABELLED_SPLIT not in split_names(data_dir, config.dataset):
            return f"{config.dataset} has no {UNLABELLED_SPLIT!r} split"
        return None
    if config.unlabelled is None:
        return "no unlabelled texts were given (--unlabelled FILE)"
    return None


def _unlabelled_texts(config: TrainConfig, data_dir, note: dict) -> Iterator[list[str]] | None:
    """Batches of unlabelled texts: the tfds dataset's `unsupervised` split, or the
    config.unlabelled file; None when there are none."""
    why = why_no_teacher(config, data_dir)
    if why:
        note["why_none"] = why
        return None
    if config.data is None:
        from sentiment_rnn.data.imdb import iter_split

        _, batches = iter_split(UNLABELLED_SPLIT, data_dir, limit=config.limit,
                                dataset=config.dataset)
        note["source"] = f"tensorflow-datasets {config.dataset}, {UNLABELLED_SPLIT} split"
        return (texts for texts, _ in batches)
    note["source"] = f"the file {config.unlabelled}"
    return _file_texts(config.unlabelled, config, note)


def _file_texts(path: str, config: TrainConfig, note: dict) -> Iterator[list[str]]:
    """The file's texts in batches, its malformed records left out and counted."""
    from sentiment_rnn.files.readers import UnlabelledTexts

    texts = UnlabelledTexts(path, config.text_column)
    each = iter(texts)
    while chunk := list(islice(each, BATCH)):
        yield [t for t in chunk if t is not None]
    note["sha256"] = texts.sha256
    note["unlabelled_skipped"] = texts.skipped.count


def _fit(config: TrainConfig, token_lines: Callable[[], Iterator[str]], labels: np.ndarray,
         is_val: np.ndarray, source: str, echo) -> Teacher:
    """The teacher fitted on the training part (at most TEACHER_MAX_ROWS of its rows) and
    scored on the validation part."""
    n_train = min(int((~is_val).sum()), TEACHER_MAX_ROWS)
    kind = "NB-weighted TF-IDF" if config.teacher == "tfidf-nb" else "TF-IDF"
    echo(f"Teacher: fitting {kind} + logistic regression on {n_train:,} training texts "
         f"(C chosen on a held-out fifth of them), then labelling the unlabelled ones "
         f"({source})")
    train_lines = islice((t for t, v in zip(token_lines(), is_val) if not v), TEACHER_MAX_ROWS)
    val_lines = (t for t, v in zip(token_lines(), is_val) if v)
    return fit_teacher(train_lines, labels[~is_val][:TEACHER_MAX_ROWS], val_lines,
                       labels[is_val], nb=config.teacher == "tfidf-nb", seed=config.seed,
                       echo=echo)


def _tokens_to_file(config: TrainConfig, vocab: Vocabulary, texts: Iterable[str],
                    held_out: set, path: Path, report: _Every) -> tuple[int, int, int]:
    """The first pass: the token line of each text that keeps at least one id written to
    `path`, a text whose tokens are in `held_out` (the validation part's hashes) left out.
    Returns (texts read, texts left out as in the validation part, lines written)."""
    rows = total = in_validation = 0
    with open(path, "w", encoding="utf-8") as f:
        for text in texts:
            tokens = tokenize(text)
            total += 1
            line = " ".join(tokens)
            if line_hash(line) in held_out:
                in_validation += 1
            elif to_ids(tokens, vocab, config.max_len, config.drop_oov):
                f.write(line + "\n")
                rows += 1
            report(lambda: f"Teacher: read {total:,} unlabelled texts")
    return total, in_validation, rows


def _label(config: TrainConfig, vocab: Vocabulary, teacher: Teacher, path: Path, rows: int,
           files: PreparedFiles | None, report: _Every) -> tuple[np.ndarray, np.ndarray]:
    """The second pass: the ids and the teacher's P(positive) of each line of `path`, a batch
    at a time; written with the run folder's prepared `files` (else held in memory)."""
    dtype = ids_dtype(len(vocab))
    if files is None:
        ids = np.zeros((rows, config.max_len), dtype=dtype)
    else:
        ids = files.new_array(UNLABELLED_FILES[0], (rows, config.max_len), dtype)
    targets = np.empty(rows, dtype=np.float32)
    with open(path, encoding="utf-8") as f:
        lines = (line.rstrip("\n") for line in f)
        start = 0
        while chunk := list(islice(lines, BATCH)):
            targets[start:start + len(chunk)] = teacher.predict(chunk)
            for row, line in enumerate(chunk, start):
                seq = to_ids(line.split(), vocab, config.max_len, config.drop_oov)
                ids[row, -len(seq):] = seq
            start += len(chunk)
            report(lambda: f"Teacher: labelled {start:,} of {rows:,} unlabelled texts")
    if files is not None:
        ids.flush()
        files.save(UNLABELLED_FILES[1], targets)
    return ids, targets


def distil(config: TrainConfig, data_dir, vocab: Vocabulary, files: PreparedFiles | None,
           scratch: Path, token_lines: Callable[[], Iterator[str]], labels: np.ndarray,
           is_val: np.ndarray, info: dict, echo=None):
    """Fit the teacher on the training part (token lines of every labelled row, in order, and
    which rows are validation), label the unlabelled texts, and return their (ids, targets),
    also written as ids-unlabelled.npy and targets-unlabelled.npy with the run folder's
    prepared `files`; None when there are no unlabelled texts. `info["teacher"]` records what
    was done."""
    echo = echo or (lambda *a: None)
    started = time.perf_counter()
    note: dict = {}
    info["teacher"] = note
    batches = _unlabelled_texts(config, data_dir, note)
    if batches is None:
        note["used"] = False
        echo(f"No teacher: {note['why_none']}")
        return None
    teacher = _fit(config, token_lines, labels, is_val, note["source"], echo)
    report = _Every(PROGRESS_SECONDS, echo)
    held_out = set(line_hashes(t for t, v in zip(token_lines(), is_val) if v).tolist())
    texts = islice((t for batch in batches for t in batch), config.limit)
    path = scratch / "unlabelled.txt"
    total, in_validation, rows = _tokens_to_file(config, vocab, texts, held_out, path, report)
    ids, targets = _label(config, vocab, teacher, path, rows, files, report)
    note.update(used=rows > 0, **teacher.describe(), unlabelled_texts=total,
                unlabelled_in_validation=in_validation, unlabelled_used=rows,
                mean_target=round(float(targets.mean()), 4) if rows else None,
                seconds=round(time.perf_counter() - started, 1))
    if in_validation:
        echo(f"Left out {in_validation:,} unlabelled texts that are also in the validation part "
             f"(compared as tokens): the model does not learn the validation texts")
    echo(f"Teacher (C {teacher.c:g}): validation accuracy {teacher.validation_accuracy:.4f} "
         f"(the validation part chose nothing); it labelled {rows:,} unlabelled texts in "
         f"{note['seconds']:.0f} s")
    if not rows:
        echo(f"No teacher: none of the {total:,} unlabelled texts has a word in the vocabulary")
        return None
    return ids, targets
