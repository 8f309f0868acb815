"""The teacher: tokens -> TF-IDF of words and word pairs, scaled by naive-Bayes log-count ratios
-> logistic regression -> P(positive), used to label unlabelled texts that the RNN then also
learns from (knowledge distillation).

    training part (token lines, labels) -> teacher, its C chosen on the validation part
    unlabelled texts -> tokens -> the teacher's P(positive)        = the RNN's soft targets
                               -> ids (the run's vocabulary)        = the RNN's inputs

An RNN of 1000 words trained on 20,000 labelled reviews learns little more than a bag of the
same words does. A TF-IDF model that reads every word and word pair knows more (0.92 on the
validation part, with NBSVM's scaling), and its probabilities on the 50,000 unlabelled IMDB
reviews (the tfds split `unsupervised`) give the RNN 2.5 times as much text again, with
targets that also say how sure the teacher is. The teacher learns from the training part's
labels only; the validation part chooses its C and stays the judge of the RNN; the test split
is never read. On a user's file the unlabelled texts come from `--unlabelled FILE`; without
them there is nothing to teach.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import numpy as np

from .config import TrainConfig
from .errors import DataFileError
from .prepared import UNLABELLED_FILES, PreparedFiles, ids_dtype
from .text import Vocabulary, to_ids, tokenize

UNLABELLED_SPLIT = "unsupervised"  # the tfds split of unlabelled texts (IMDB has 50,000)
TEACHER_MAX_ROWS = 100_000  # the teacher learns from at most this many training texts (memory)
TEACHER_MIN_DF = 2  # a word or pair in fewer training texts is not a feature
C_GRID = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)  # inverse L2 strengths (scikit-learn's C)
BATCH = 4096  # unlabelled texts labelled at a time: memory stays bounded


def grams(line: str) -> list[str]:
    """A token line -> its words and word pairs, the teacher's features."""
    tokens = line.split()
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]


def fit_logistic_regression(x_train, y_train, x_val, y_val, grid=C_GRID):
    """scikit-learn's LogisticRegression (lbfgs, run to convergence) for each C; the lowest
    validation log loss wins. Returns (model, C)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss

    fits = [LogisticRegression(C=c, max_iter=5000).fit(x_train, y_train) for c in grid]
    losses = [log_loss(y_val, f.predict_proba(x_val)[:, 1], labels=[0, 1]) for f in fits]
    best = int(np.argmin(losses))
    return fits[best], grid[best]


def nb_ratios(x, y: np.ndarray) -> np.ndarray:
    """Per feature: log of (share of positive texts that have it) / (share of negative texts
    that have it), each count + 1: the naive-Bayes log-count ratio of Wang and Manning's
    NBSVM ("Baselines and Bigrams", 2012). Features scaled by it favour the telling ones."""
    present = x.copy()
    present.data[:] = 1.0
    pos = 1.0 + np.asarray(present[y == 1].sum(axis=0)).ravel()
    neg = 1.0 + np.asarray(present[y != 1].sum(axis=0)).ravel()
    return np.log((pos / pos.sum()) / (neg / neg.sum()))


@dataclass
class Teacher:
    vectorizer: object  # scikit-learn TfidfVectorizer over `grams`
    ratios: np.ndarray  # nb_ratios of the training part: each feature's scale
    model: object  # scikit-learn LogisticRegression
    c: float
    validation_accuracy: float
    validation_log_loss: float
    train_texts: int

    def features(self, token_lines: Iterable[str]):
        return self.vectorizer.transform(token_lines).multiply(self.ratios).tocsr()

    def predict(self, token_lines: Iterable[str]) -> np.ndarray:
        """P(positive) for token lines (tokens joined by spaces)."""
        return self.model.predict_proba(self.features(token_lines))[:, 1]

    def describe(self) -> dict:
        nb = not np.all(self.ratios == 1)
        return {"kind": f"{'NB-weighted ' if nb else ''}TF-IDF of words and word pairs + "
                        f"logistic regression",
                "c": self.c, "validation_accuracy": round(self.validation_accuracy, 4),
                "validation_log_loss": round(self.validation_log_loss, 4),
                "features": len(self.vectorizer.vocabulary_), "train_texts": self.train_texts,
                "min_df": TEACHER_MIN_DF}


def fit_teacher(train_lines: Iterable[str], y_train: np.ndarray, val_lines: Iterable[str],
                y_val: np.ndarray, nb: bool = True) -> Teacher:
    """Fit the TF-IDF vocabulary and weights on the training lines, the features scaled by
    `nb_ratios` (unless not `nb`); choose C by the log loss on the validation lines."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import log_loss

    y_train, y_val = np.asarray(y_train), np.asarray(y_val)
    train_lines = list(train_lines)  # read twice when min_df leaves nothing
    if len(np.unique(y_train)) < 2:
        raise DataFileError("the teacher needs positive and negative texts in the training "
                            "part (or train with --teacher none)")
    vectorizer = TfidfVectorizer(analyzer=grams, min_df=TEACHER_MIN_DF, sublinear_tf=True,
                                 dtype=np.float64)
    try:
        x_train = vectorizer.fit_transform(train_lines)
    except ValueError:  # min_df left no feature: the training texts are too few or too short
        vectorizer = TfidfVectorizer(analyzer=grams, sublinear_tf=True, dtype=np.float64)
        x_train = vectorizer.fit_transform(train_lines)
    ratios = nb_ratios(x_train, y_train) if nb else np.ones(x_train.shape[1])
    x_train = x_train.multiply(ratios).tocsr()
    x_val = vectorizer.transform(val_lines).multiply(ratios).tocsr()
    model, c = fit_logistic_regression(x_train, y_train, x_val, y_val)
    p = model.predict_proba(x_val)[:, 1]
    return Teacher(vectorizer, ratios, model, c, float(np.mean((p >= 0.5) == y_val)),
                   float(log_loss(y_val, p, labels=[0, 1])), len(y_train))


def why_no_teacher(config: TrainConfig, data_dir) -> str | None:
    """Why the teacher has nothing to label (no unlabelled texts), or None: asked before the
    vocabulary is built, whose df power depends on whether a teacher is used."""
    if config.data is None:
        from .data import split_names

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
        from .data import iter_split

        _, batches = iter_split(UNLABELLED_SPLIT, data_dir, limit=config.limit,
                                dataset=config.dataset)
        note["source"] = f"tensorflow-datasets {config.dataset}, {UNLABELLED_SPLIT} split"
        return (texts for texts, _ in batches)
    note["source"] = f"the file {config.unlabelled}"
    return _file_texts(config.unlabelled, config, note)


def _file_texts(path: str, config: TrainConfig, note: dict) -> Iterator[list[str]]:
    """The file's texts in batches; a malformed record (too long, not UTF-8, no text) is
    counted and left out: one bad line among many unlabelled texts costs nothing."""
    from .columns import Columns
    from .readers import Skipped, read_texts
    from .streams import Source

    skipped = Skipped()
    with Source(path) as source:
        texts = read_texts(source, skip_bad=True, skipped=skipped,
                           columns=Columns(config.text_column))
        while chunk := list(islice(texts, BATCH)):
            yield [t for t in chunk if t is not None]
        note["sha256"] = source.sha256
    note["unlabelled_skipped"] = skipped.count


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
    n_train = min(int((~is_val).sum()), TEACHER_MAX_ROWS)
    kind = "NB-weighted TF-IDF" if config.teacher == "tfidf-nb" else "TF-IDF"
    echo(f"Teacher: fitting {kind} + logistic regression on {n_train:,} training "
         f"texts, then labelling the unlabelled ones ({note['source']})")
    train_lines = islice((t for t, v in zip(token_lines(), is_val) if not v), TEACHER_MAX_ROWS)
    val_lines = (t for t, v in zip(token_lines(), is_val) if v)
    teacher = fit_teacher(train_lines, labels[~is_val][:TEACHER_MAX_ROWS], val_lines,
                          labels[is_val], nb=config.teacher == "tfidf-nb")
    # first pass: tokens to a scratch file, and which texts keep at least one id
    path = scratch / "unlabelled.txt"
    texts = islice((t for batch in batches for t in batch), config.limit)
    rows = total = 0
    with open(path, "w", encoding="utf-8") as f:
        for text in texts:
            tokens = tokenize(text)
            total += 1
            if to_ids(tokens, vocab, config.max_len, config.drop_oov):
                f.write(" ".join(tokens) + "\n")
                rows += 1
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
    if files is not None:
        ids.flush()
        files.save(UNLABELLED_FILES[1], targets)
    note.update(used=rows > 0, **teacher.describe(), unlabelled_texts=total,
                unlabelled_used=rows, mean_target=round(float(targets.mean()), 4) if rows else None,
                seconds=round(time.perf_counter() - started, 1))
    echo(f"Teacher (C {teacher.c:g}): validation accuracy {teacher.validation_accuracy:.4f}; "
         f"it labelled {rows:,} unlabelled texts in {note['seconds']:.0f} s")
    if not rows:
        echo(f"No teacher: none of the {total:,} unlabelled texts has a word in the vocabulary")
        return None
    return ids, targets
