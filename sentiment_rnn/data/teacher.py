"""The teacher: tokens -> TF-IDF of words and word pairs, scaled by naive-Bayes log-count ratios
-> logistic regression -> P(positive), used to label unlabelled texts that the RNN then also
learns from (knowledge distillation).

    training part (token lines, labels) -> teacher, its C chosen on a held-out fifth of it
    unlabelled texts -> tokens -> the teacher's P(positive)        = the RNN's soft targets
                               -> ids (the run's vocabulary)        = the RNN's inputs

An RNN of 1000 words trained on 20,000 labelled reviews learns little more than a bag of the
same words does. A TF-IDF model that reads every word and word pair knows more (about 0.92 on
the validation part, with NBSVM's scaling), and its probabilities on the 50,000 unlabelled IMDB
reviews (the tfds split `unsupervised`) give the RNN 2.5 times as much text again, with
targets that also say how sure the teacher is. The teacher learns from the training part alone:
its C is chosen by log loss on a seeded, stratified fifth of the training part held out from
the other four fifths, then it is fitted again on the whole training part with that C. The
validation part chooses nothing here: its accuracy is a clean number, and the validation part
stays the judge of the RNN; the test split is never read. On a user's file the unlabelled texts
come from `--unlabelled FILE`; without them there is nothing to teach.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import numpy as np

from sentiment_rnn.data.checks import line_hash, line_hashes
from sentiment_rnn.config import TrainConfig
from sentiment_rnn.errors import DataFileError
from sentiment_rnn.data.id_store import UNLABELLED_FILES, PreparedFiles, ids_dtype
from sentiment_rnn.text.tokenizer import tokenize
from sentiment_rnn.text.vocabulary import Vocabulary, to_ids

UNLABELLED_SPLIT = "unsupervised"  # the tfds split of unlabelled texts (IMDB has 50,000)
TEACHER_MAX_ROWS = 100_000  # the teacher learns from at most this many training texts (memory)
TEACHER_MIN_DF = 2  # a word or pair in fewer training texts is not a feature
C_GRID = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)  # inverse L2 strengths (scikit-learn's C)
HOLDOUT = 0.2  # share of the training part held out (per label) to choose C
DEFAULT_C = 1.0  # scikit-learn's default: C for a training part too small to hold some out
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


def grams(line: str) -> list[str]:
    """A token line -> its words and word pairs, the teacher's features."""
    tokens = line.split()
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]


def fit_logistic_regression(x_train, y_train, x_val, y_val, grid=C_GRID, progress=None):
    """scikit-learn's LogisticRegression (lbfgs, run to convergence) for each C; the lowest
    log loss on (x_val, y_val) wins. Returns (model, C). `progress(i, c, loss)` is called
    after each fit."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss

    fits, losses = [], []
    for i, c in enumerate(grid, 1):
        fits.append(LogisticRegression(C=c, max_iter=5000).fit(x_train, y_train))
        losses.append(log_loss(y_val, fits[-1].predict_proba(x_val)[:, 1], labels=[0, 1]))
        if progress:
            progress(i, c, losses[-1])
    best = int(np.argmin(losses))
    return fits[best], grid[best]


def holdout_mask(y: np.ndarray, seed: int) -> np.ndarray | None:
    """The rows of the training part held out to choose C: HOLDOUT of each label's rows, drawn
    by a shuffle seeded with `seed`; None when the rest would lack a label or nothing would be
    held out (a tiny training part)."""
    rng = np.random.default_rng([seed, 2])  # not the streams of the split or the batches
    mask = np.zeros(len(y), dtype=bool)
    for value in (0, 1):
        rows = np.flatnonzero(y == value)
        mask[rng.permutation(rows)[:int(round(len(rows) * HOLDOUT))]] = True
    rest = y[~mask]
    if not mask.any() or len(np.unique(rest)) < 2:
        return None
    return mask


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
    c_chosen_on: int  # training texts held out to choose C (0: too few, DEFAULT_C)
    validation_accuracy: float | None  # on the validation part, which chose nothing
    validation_log_loss: float | None
    train_texts: int

    def features(self, token_lines: Iterable[str]):
        return self.vectorizer.transform(token_lines).multiply(self.ratios).tocsr()

    def predict(self, token_lines: Iterable[str]) -> np.ndarray:
        """P(positive) for token lines (tokens joined by spaces)."""
        return self.model.predict_proba(self.features(token_lines))[:, 1]

    def describe(self) -> dict:
        nb = not np.all(self.ratios == 1)
        held = (f"log loss on {self.c_chosen_on:,} training texts held out from the fit"
                if self.c_chosen_on else "scikit-learn's default (too few training texts to "
                                         "hold some out)")

        def rounded(x):
            return None if x is None else round(x, 4)

        return {"kind": f"{'NB-weighted ' if nb else ''}TF-IDF of words and word pairs + "
                        f"logistic regression",
                "c": self.c, "c_chosen_by": held, "c_holdout_texts": self.c_chosen_on,
                "validation_accuracy": rounded(self.validation_accuracy),
                "validation_log_loss": rounded(self.validation_log_loss),
                "features": len(self.vectorizer.vocabulary_), "train_texts": self.train_texts,
                "min_df": TEACHER_MIN_DF}


def _vectorize(train_lines: list[str]):
    """A TF-IDF vectorizer fitted on the lines (no labels read), and their features."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(analyzer=grams, min_df=TEACHER_MIN_DF, sublinear_tf=True,
                                 dtype=np.float64)
    try:
        return vectorizer, vectorizer.fit_transform(train_lines)
    except ValueError:  # min_df left no feature: the training texts are too few or too short
        vectorizer = TfidfVectorizer(analyzer=grams, sublinear_tf=True, dtype=np.float64)
        return vectorizer, vectorizer.fit_transform(train_lines)


def fit_teacher(train_lines: Iterable[str], y_train, val_lines: Iterable[str] | None = None,
                y_val=None, nb: bool = True, seed: int = 0, echo=None) -> Teacher:
    """Fit the TF-IDF vocabulary and weights on the training lines, the features scaled by
    `nb_ratios` (unless not `nb`). C is chosen by log loss on `holdout_mask`'s rows after
    fitting the ratios and weights on the other rows; the teacher is then fitted on every
    training line with that C. The validation lines and labels, if given, are only scored
    afterwards: they choose nothing. `echo` gets a line after each C's fit."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss

    y_train = np.asarray(y_train)
    train_lines = list(train_lines)  # read twice when min_df leaves nothing
    if len(np.unique(y_train)) < 2:
        raise DataFileError("the teacher needs positive and negative texts in the training "
                            "part (or train with --teacher none)")
    vectorizer, x_all = _vectorize(train_lines)
    held = holdout_mask(y_train, seed)
    c = DEFAULT_C
    if held is not None:
        fit, out = ~held, held
        ratios = nb_ratios(x_all[fit], y_train[fit]) if nb else np.ones(x_all.shape[1])
        started = time.perf_counter()

        def progress(i, c, loss):
            if echo:
                echo(f"Teacher: C {i}/{len(C_GRID)} ({c:g}): log loss {loss:.4f} on "
                     f"{int(out.sum()):,} held-out training texts "
                     f"({time.perf_counter() - started:.0f} s)")

        _, c = fit_logistic_regression(x_all[fit].multiply(ratios).tocsr(), y_train[fit],
                                       x_all[out].multiply(ratios).tocsr(), y_train[out],
                                       progress=progress)
    ratios = nb_ratios(x_all, y_train) if nb else np.ones(x_all.shape[1])
    model = LogisticRegression(C=c, max_iter=5000).fit(x_all.multiply(ratios).tocsr(), y_train)
    teacher = Teacher(vectorizer, ratios, model, c, 0 if held is None else int(held.sum()),
                      None, None, len(y_train))
    if val_lines is not None:
        y_val = np.asarray(y_val)
        p = teacher.predict(val_lines)
        teacher.validation_accuracy = float(np.mean((p >= 0.5) == y_val))
        teacher.validation_log_loss = float(log_loss(y_val, p, labels=[0, 1]))
    return teacher


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
    """The file's texts in batches; a malformed record (too long, not UTF-8, no text) is
    counted and left out: one bad line among many unlabelled texts costs nothing."""
    from sentiment_rnn.files.columns import Columns
    from sentiment_rnn.files.readers import Skipped, read_texts
    from sentiment_rnn.files.streams import Source

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
    echo(f"Teacher: fitting {kind} + logistic regression on {n_train:,} training texts "
         f"(C chosen on a held-out fifth of them), then labelling the unlabelled ones "
         f"({note['source']})")
    train_lines = islice((t for t, v in zip(token_lines(), is_val) if not v), TEACHER_MAX_ROWS)
    val_lines = (t for t, v in zip(token_lines(), is_val) if v)
    teacher = fit_teacher(train_lines, labels[~is_val][:TEACHER_MAX_ROWS], val_lines,
                          labels[is_val], nb=config.teacher == "tfidf-nb", seed=config.seed,
                          echo=echo)
    report = _Every(PROGRESS_SECONDS, echo)
    # first pass: tokens to a scratch file, and which texts keep at least one id; a text
    # that is also in the validation part (the same tokens, checks.py) is left out
    held_out = set(line_hashes(t for t, v in zip(token_lines(), is_val) if v).tolist())
    path = scratch / "unlabelled.txt"
    texts = islice((t for batch in batches for t in batch), config.limit)
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
