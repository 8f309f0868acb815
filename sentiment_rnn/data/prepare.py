"""Data preparation: labelled texts -> training and validation parts -> vocabulary -> ids.

    texts (data.py: a tfds split; readers.py: a user's file) -> tokens (text.py)
      -> split -> vocabulary from the training part only -> ids, written once

The one place that splits the data and builds the vocabulary, used by training, the baselines
and the benchmarks alike. IMDB (and any tfds dataset) keeps its order, already shuffled: the
last `validation_fraction` is the validation part. A user's file is often sorted by label or
date, so its validation part is taken after a seeded shuffle, the same fraction of each label;
or it is a second file (`validation_data`). The test split is never read here.

Memory stays bounded as the data grows: texts are tokenized as they stream in and written to a
scratch file of tokens; the labels and the split (about 10 bytes a review) are all that stays in
memory; the ids are
written once into .npy files that training memory-maps (`folder`), or held in memory for small
uses (`folder=None`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sentiment_rnn.data.checks import check_files, check_parts, check_sources, line_hashes, validation_overlap
from sentiment_rnn.config import TrainConfig
from sentiment_rnn.errors import ConfigError, DataFileError
from sentiment_rnn.data.token_files import (build_vocabulary, lines, reads_sentences,
                                            token_lines, tokenize_to, training_sentences)
from sentiment_rnn.text.tokenizer import tokenize
from sentiment_rnn.text.vocabulary import Vocabulary, to_ids

from sentiment_rnn.data.id_store import IDS_FILES, LABEL_FILES, PreparedFiles, ids_dtype, with_unlabelled


def split_train_validation(n: int, fraction: float) -> int:
    """Index where validation starts: the last `fraction` of n reviews, each part non-empty."""
    n_val = int(round(n * fraction))
    if n_val < 1 or n - n_val < 1:
        raise ConfigError(f"{n:,} training reviews cannot be split into a training and a "
                          f"validation part with validation fraction {fraction:g}; use more "
                          f"reviews or another fraction")
    return n - n_val


def stratified_validation(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """A boolean mask of the validation rows: `fraction` of each label's rows, drawn by a
    shuffle seeded with `seed`, so a file sorted by label or date splits fairly."""
    rng = np.random.default_rng([seed, 1])  # not the stream training draws its batches from
    mask = np.zeros(len(labels), dtype=bool)
    for value in (0, 1):
        rows = np.flatnonzero(labels == value)
        # at least one of each label that has two, so both parts hold it
        n = max(int(round(len(rows) * fraction)), 1 if len(rows) >= 2 else 0)
        mask[rng.permutation(rows)[:n]] = True
    if not mask.any() or mask.all():
        raise ConfigError(f"{len(labels):,} labelled texts cannot be split into a training and "
                          f"a validation part with validation fraction {fraction:g}; use more "
                          f"texts, another fraction or --validation-data")
    return mask


@dataclass
class Source:
    """Where labelled texts come from, and what was found there (written to config.json)."""

    description: dict = field(default_factory=dict)


def _tfds_batches(config: TrainConfig, data_dir, info: dict) -> Iterator[tuple[list, np.ndarray]]:
    from sentiment_rnn.data.imdb import iter_split, resolve_data_dir

    n, batches = iter_split("train", data_dir, limit=config.limit, dataset=config.dataset)
    info.update(source=f"tensorflow-datasets {config.dataset}, train split",
                folder=str(resolve_data_dir(data_dir)), rows=n)
    return batches


def _file_batches(path: str, config: TrainConfig, info: dict, read: list[str],
                  what: str = "Data", batch: int = 4096) -> Iterator[tuple[list, np.ndarray]]:
    """Batches of a labelled file; `read` gets the lines saying what was read (as `evaluate`
    prints them: rows left out by --positive/--negative, the columns and label values)."""
    from sentiment_rnn.files.columns import Columns, LabelMap, columns_line, data_line
    from sentiment_rnn.files.readers import iter_labelled

    label_map = LabelMap(config.positive, config.negative)
    found = iter_labelled(path, columns=Columns(config.text_column, config.label_column),
                          labels=label_map)
    texts, labels, used = [], [], 0
    for text, label in found:
        if config.limit is not None and found.count > config.limit:
            break
        texts.append(text)
        labels.append(label)
        used += 1
        if len(texts) == batch:
            yield texts, np.asarray(labels, dtype=np.int32)
            texts, labels = [], []
    if texts:
        yield texts, np.asarray(labels, dtype=np.int32)
    info.update(found.describe())
    if not info.get("sha256") and os.path.isfile(path):  # --limit stopped before the end
        from sentiment_rnn.files.atomic import sha256_file

        info["sha256"] = sha256_file(path)
    read += [data_line(found.stats, used, what), columns_line(found.stats.columns, label_map)]


class _Batches:
    """The batches of (texts, labels) of the training data: a tfds split, a file, or a file and
    then a validation file; `first_part` counts the rows of the first."""

    def __init__(self, config: TrainConfig, data_dir, info: dict):
        self.config, self.data_dir, self.info = config, data_dir, info
        self.first_part = 0
        self.read: list[str] = []  # what was read from files, for the console

    def __iter__(self):
        config, info = self.config, self.info
        if config.data is None:
            first = _tfds_batches(config, self.data_dir, info)
        else:
            first = _file_batches(config.data, config, info, self.read)
        for texts, ys in first:
            self.first_part += len(ys)
            yield texts, ys
        if config.validation_data is not None:
            info["validation_file"] = {}
            yield from _file_batches(config.validation_data, config, info["validation_file"],
                                     self.read, "Validation data")


def _batches(config: TrainConfig, data_dir, info: dict) -> _Batches:
    return _Batches(config, data_dir, info)


def _validation_mask(config: TrainConfig, labels: np.ndarray, first_part: int,
                     info: dict) -> np.ndarray:
    """Which rows are the validation part, and a note of how they were chosen."""
    if config.validation_data is not None:
        info["validation"] = f"the file {config.validation_data}"
        return np.arange(len(labels)) >= first_part
    if config.data is None:
        cut = split_train_validation(len(labels), config.validation_fraction)
        info["validation"] = f"last {config.validation_fraction:.0%} of the train split"
        return np.arange(len(labels)) >= cut
    info["validation"] = (f"{config.validation_fraction:.0%} of each label, after a shuffle "
                          f"seeded with {config.seed}")
    return stratified_validation(labels, config.validation_fraction, config.seed)


def _split(config: TrainConfig, labels: np.ndarray, hashes: np.ndarray, first_part: int,
           info: dict, echo=None) -> tuple[np.ndarray, np.ndarray]:
    """(training rows, validation rows) as boolean masks, after the checks of checks.py: both
    labels in the data and in each part; a validation text whose tokens are also a training
    text's is dropped (neither part) and counted."""
    check_sources(labels, first_part, config, info)
    is_val = _validation_mask(config, labels, first_part, info)
    if len(labels) < 2 or is_val.all() or not is_val.any():
        raise DataFileError("the training data needs at least one review in each of the "
                            "training and validation parts")
    dropped = validation_overlap(hashes, is_val)
    info["validation_duplicates_dropped"] = n = int(dropped.sum())
    is_train, is_val = ~is_val, is_val & ~dropped
    if n and echo:
        echo(f"Dropped {n:,} validation texts whose words are also a training text's (compared "
             f"as tokens): the validation part keeps {int(is_val.sum()):,} texts the model "
             f"has not seen")
    check_parts(labels, is_train, is_val, info)
    return is_train, is_val


def labelled_texts(config: TrainConfig, data_dir=None):
    """The training and validation parts as (texts, labels) in memory, split as `prepare`
    splits them: for the baselines, which read whole texts."""
    batches = _batches(config, data_dir, {})
    texts, labels = [], []
    for t, ys in batches:
        texts.extend(t)
        labels.append(np.asarray(ys, dtype=np.int32))
    labels = np.concatenate(labels) if labels else np.empty(0, np.int32)
    hashes = line_hashes(" ".join(tokenize(t)) for t in texts)
    is_train, is_val = _split(config, labels, hashes, batches.first_part, dict(batches.info))
    return ([t for t, v in zip(texts, is_train) if v], labels[is_train]), \
        ([t for t, v in zip(texts, is_val) if v], labels[is_val])


def _ids_array(files: PreparedFiles | None, part: str, rows: int, width: int,
               vocab_size: int):
    """A zero (rows, width) array for a part's ids: a new .npy memory map in the run folder
    (`files`), or in memory."""
    if files is None:
        return np.zeros((rows, width), dtype=ids_dtype(vocab_size))
    return files.new_array(IDS_FILES[part], (rows, width), ids_dtype(vocab_size))


def prepare(config: TrainConfig, data_dir=None, vocab: Vocabulary | None = None,
            folder: Path | None = None, source: Source | None = None, teacher: bool = False,
            echo=None):
    """Read, split, tokenize and encode the training data once; return the vocabulary (built
    from the training part unless given) and the (ids, labels) of the training and validation
    parts, ids (reviews, max_len) padded in front. With `folder`, the ids and labels are also
    written there (memory-mapped); `source` gets the description of the data. The data is
    checked first (checks.py): no file twice, both labels in each part, and a validation text
    that is also a training text is dropped and counted.

    With `teacher` (and config.teacher not "none"), the training part also holds the unlabelled
    texts the teacher labelled (teacher.py): its ids are then the labelled rows followed by
    those, and its labels float targets, 0/1 for labelled rows and the teacher's P(positive)."""
    info = {} if source is None else source.description
    check_files(config)
    files = None if folder is None else PreparedFiles(folder)
    with tempfile.TemporaryDirectory(prefix=".prepare-", suffix=".tmp", dir=folder) as scratch:
        tokens_path = Path(scratch) / "tokens.txt"
        sentences_path = Path(scratch) / "sentences.txt" if reads_sentences(config, vocab,
                                                                            teacher) else None
        batches = _batches(config, data_dir, info)
        labels, hashes = tokenize_to(batches, tokens_path, sentences_path)
        for line in batches.read if echo else ():
            echo(line)
        is_train, is_val = _split(config, labels, hashes, batches.first_part, info, echo)
        info.update(train_reviews=int(is_train.sum()), validation_reviews=int(is_val.sum()),
                    train_positive_share=float(labels[is_train].mean()))
        if vocab is None:
            vocab = build_vocabulary(config, tokens_path, sentences_path, labels, is_train,
                                     echo)
        parts = {"train": is_train, "validation": is_val}
        arrays = {p: _ids_array(files, p, int(m.sum()), config.max_len, len(vocab))
                  for p, m in parts.items()}
        position = {p: np.cumsum(m, dtype=np.int64) - 1 for p, m in parts.items()}  # row ->
        for row, tokens in enumerate(token_lines(tokens_path)):  # index in its part
            part = "validation" if is_val[row] else "train" if is_train[row] else None
            ids = part and to_ids(tokens, vocab, config.max_len, config.drop_oov)
            if ids:
                arrays[part][position[part][row], -len(ids):] = ids
        extra = None
        if teacher and config.teacher != "none":
            from sentiment_rnn.data.distil import distil

            kept = is_train | is_val  # without the dropped duplicates
            extra = distil(config, data_dir, vocab, files, Path(scratch),
                           lambda: (t for t, k in zip(lines(tokens_path), kept) if k),
                           labels[kept], is_val[kept], info, echo,
                           training_sentences(config, sentences_path, labels, is_train))
    out = []
    for part, mask in parts.items():
        ys = labels[mask].astype(np.int32)
        if files is not None:
            arrays[part].flush()
            files.save(LABEL_FILES[part], ys)
        out.append((arrays[part], ys))
    if files is not None:
        info["prepared_sha256"] = files.commit()
    if extra is not None:
        out[0] = with_unlabelled(out[0], extra)
    return vocab, out[0], out[1]
