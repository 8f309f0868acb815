"""Data that would train a wrong model, named before training.

    --data, --validation-data, --unlabelled -> never the same file twice (path, link or bytes)
    labels -> both labels in the data, its training part and its validation part
    token lines -> validation texts also in the training part: dropped and counted
    --unlabelled -> at least one text with a word (before the teacher runs); texts also in the
                    validation part: dropped and counted (teacher.py)

Texts are compared by their tokens (text.py's `tokenize`: lower case, HTML line breaks and
punctuation ignored), the form the model reads, so two texts that differ only in case, spacing
or punctuation are the same text; each is kept as a 64-bit hash of its tokens (8 bytes a text).
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable

import numpy as np

from sentiment_rnn.errors import DataFileError

NAMES = {"validation_data": "--validation-data", "unlabelled": "--unlabelled", "data": "--data"}
WHY_SAME = {
    ("validation_data", "data"): "the model would be validated on the texts it trains on; give "
                                 "another file, or leave --validation-data out to hold out part "
                                 "of --data",
    ("unlabelled", "data"): "the teacher would label texts the model already trains on; give "
                            "texts that have no labels",
    ("unlabelled", "validation_data"): "the teacher would label the validation texts and the "
                                       "model train on them; give other texts",
}


def line_hash(line: str) -> int:
    """A token line's 64-bit hash: equal token lines, equal hashes."""
    return int.from_bytes(hashlib.blake2b(line.encode("utf-8"), digest_size=8).digest(),
                          "little")


def line_hashes(lines: Iterable[str]) -> np.ndarray:
    return np.fromiter((line_hash(line) for line in lines), dtype=np.uint64)


def _same(a: str, b: str) -> str | None:
    """How the file `a` is the file `b`: 'the same file as' (a path, a symbolic or hard link to
    it) or 'a copy of' (other bytes-for-bytes equal file); None if it is not."""
    try:
        sa, sb = os.stat(a), os.stat(b)
    except OSError:
        return None
    if (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino):
        return "the same file as"
    if not (stat.S_ISREG(sa.st_mode) and stat.S_ISREG(sb.st_mode)) or sa.st_size != sb.st_size:
        return None
    from sentiment_rnn.files.atomic import sha256_file

    return "a copy of" if sha256_file(a) == sha256_file(b) else None


def check_files(config) -> None:
    """Refuse --validation-data or --unlabelled that is the --data file (or the validation
    file), by path, link or bytes."""
    for (key, other), why in WHY_SAME.items():
        path, other_path = getattr(config, key), getattr(config, other)
        if path is None or other_path is None or "-" in (path, other_path):
            continue
        how = _same(path, other_path)
        if how:
            raise DataFileError(f"{NAMES[key]} {path} is {how} {NAMES[other]} {other_path}: "
                                f"{why}")


def _counts(labels: np.ndarray) -> str:
    positive = int((labels == 1).sum())
    return f"{positive:,} positive, {len(labels) - positive:,} negative"


def _check_both_labels(labels: np.ndarray, name: str, left_out: dict | None = None) -> None:
    """Refuse labelled texts of one label only: a model trained on them predicts that label
    whatever it reads, and a validation part of one label cannot tell it from a good one."""
    if len(labels) and 0 < int((labels == 1).sum()) < len(labels):
        return
    which = "positive" if len(labels) and labels[0] == 1 else "negative"
    rest = ""
    if left_out:
        shown = ", ".join(f"{k}: {v:,}" for k, v in sorted(left_out.items())[:6])
        rest = f"; {sum(left_out.values()):,} rows with other labels left out ({shown})"
    raise DataFileError(f"{name}: every labelled text is {which} ({_counts(labels)}{rest}); a "
                        f"model needs both labels to learn and to be judged (check "
                        f"--label-column, --positive and --negative)")


def check_sources(labels: np.ndarray, first_part: int, config, info: dict) -> None:
    """Both labels in the training data, and in the --validation-data file if there is one."""
    if config.data is None:
        _check_both_labels(labels[:first_part], f"{config.dataset} train split")
    else:
        _check_both_labels(labels[:first_part], config.data, info.get("left_out_other_labels"))
    if config.validation_data is not None:
        _check_both_labels(labels[first_part:], config.validation_data,
                          info.get("validation_file", {}).get("left_out_other_labels"))


def check_parts(labels: np.ndarray, is_train: np.ndarray, is_val: np.ndarray,
                info: dict) -> None:
    """Both labels in the training part and in the validation part, as split."""
    for part, mask in (("training", is_train), ("validation", is_val)):
        ys = labels[mask]
        if len(ys) and 0 < int((ys == 1).sum()) < len(ys):
            continue
        dropped = info.get("validation_duplicates_dropped", 0) if part == "validation" else 0
        also = (f" after dropping {dropped:,} texts that are also in the training part"
                if dropped else "")
        raise DataFileError(f"the {part} part ({info.get('validation', 'as split')}) holds "
                            f"{_counts(ys)}{also}: it needs both labels; use more texts, "
                            f"another --validation-fraction or --validation-data")


def validation_overlap(hashes: np.ndarray, is_val: np.ndarray) -> np.ndarray:
    """Which validation rows have the tokens of a training row: a boolean mask over all rows."""
    out = np.zeros(len(hashes), dtype=bool)
    out[is_val] = np.isin(hashes[is_val], hashes[~is_val])
    return out


def check_unlabelled(config) -> None:
    """Refuse an --unlabelled file with no text that has a word (empty, blank, punctuation
    only, malformed records only) before the teacher is fitted. A pipe is left to the teacher,
    which reads it once."""
    if config.unlabelled is None or config.teacher == "none":
        return
    path = config.unlabelled
    if not os.path.isfile(path):
        return
    from contextlib import closing

    from sentiment_rnn.files.readers import UnlabelledTexts
    from sentiment_rnn.text.tokenizer import tokenize

    texts, records = UnlabelledTexts(path, config.text_column), 0
    with closing(iter(texts)) as each:  # closed (the file too) at the first text with a word
        for text in each:
            records += 1
            if text is not None and tokenize(text):
                return
    if not records:
        what = "the file is empty"
    else:
        skipped = texts.skipped
        bad = f", {skipped.count:,} of them malformed" if skipped.count else ""
        what = f"{records:,} records{bad}, none with a word"
    raise DataFileError(f"{path}: no unlabelled text to teach with ({what}); give other "
                        f"--unlabelled texts, or leave --unlabelled out to train without a "
                        f"teacher")
