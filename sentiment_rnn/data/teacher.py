"""The teacher: tokens -> TF-IDF of words and word pairs, scaled by naive-Bayes log-count ratios
-> logistic regression -> P(positive), used to label unlabelled texts that the RNN then also
learns from (knowledge distillation, distil.py).

    training part (token lines, labels) -> teacher, its C chosen on a held-out fifth of it
    token lines -> the teacher's P(positive)

An RNN of 1000 words trained on 20,000 labelled reviews learns little more than a bag of the
same words does. A TF-IDF model that reads every word and word pair knows more (about 0.92 on
the validation part, with NBSVM's scaling). The teacher learns from the training part alone:
its C is chosen by log loss on a seeded, stratified fifth of the training part held out from
the other four fifths, then it is fitted again on the whole training part with that C. The
validation part chooses nothing here: its accuracy is a clean number, and the validation part
stays the judge of the RNN; the test split is never read.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from sentiment_rnn.config import usable_cores
from sentiment_rnn.errors import DataFileError

TEACHER_MIN_DF = 2  # a word or pair in fewer training texts is not a feature
C_GRID = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)  # inverse L2 strengths (scikit-learn's C)
HOLDOUT = 0.2  # share of the training part held out (per label) to choose C
DEFAULT_C = 1.0  # scikit-learn's default: C for a training part too small to hold some out
PARALLEL_ROWS = 2_000  # fewer training rows: C's fits run in this process (a worker costs more)


def grams(line: str) -> list[str]:
    """A token line -> its words and word pairs, the teacher's features."""
    tokens = line.split()
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]


def _fit_one(c: float, x, y):
    """One C's fit: scikit-learn's LogisticRegression (lbfgs, run to convergence)."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=5000).fit(x, y)


def fit_logistic_regression(x_train, y_train, x_val, y_val, grid=C_GRID, progress=None):
    """scikit-learn's LogisticRegression (lbfgs, run to convergence) for each C; the lowest
    log loss on (x_val, y_val) wins. Returns (model, C). `progress(i, c, loss)` is called
    after each fit, in the grid's order.

    The fits are independent, so with PARALLEL_ROWS training rows or more they run in
    joblib's worker processes, one per usable core: the same fits, the same results, in
    about half the time on two cores."""
    from joblib import Parallel, delayed
    from sklearn.metrics import log_loss

    jobs = min(len(grid), usable_cores()) if x_train.shape[0] >= PARALLEL_ROWS else 1
    # max_nbytes=None: the data is sent, not memory-mapped from /dev/shm, so a killed run
    # leaves nothing behind there
    runs = Parallel(n_jobs=jobs, return_as="generator", max_nbytes=None)(
        delayed(_fit_one)(c, x_train, y_train) for c in grid)
    fits, losses = [], []
    for i, (c, fit) in enumerate(zip(grid, runs), 1):
        fits.append(fit)
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


def _nb_ratios(x, y: np.ndarray) -> np.ndarray:
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
    ratios: np.ndarray  # _nb_ratios of the training part: each feature's scale
    model: object  # scikit-learn LogisticRegression
    c: float
    c_chosen_on: int  # training texts held out to choose C (0: too few, DEFAULT_C)
    validation_accuracy: float | None  # on the validation part, which chose nothing
    validation_log_loss: float | None
    train_texts: int
    c_given: bool = False  # C came from another teacher's search (distil's sentence teacher)

    def features(self, token_lines: Iterable[str]):
        return self.vectorizer.transform(token_lines).multiply(self.ratios).tocsr()

    def predict(self, token_lines: Iterable[str]) -> np.ndarray:
        """P(positive) for token lines (tokens joined by spaces)."""
        return self.model.predict_proba(self.features(token_lines))[:, 1]

    def describe(self) -> dict:
        nb = not np.all(self.ratios == 1)
        held = (f"log loss on {self.c_chosen_on:,} training texts held out from the fit"
                if self.c_chosen_on else "the review teacher's" if self.c_given else
                "scikit-learn's default (too few training texts to hold some out)")

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
                y_val=None, nb: bool = True, seed: int = 0, echo=None,
                c: float | None = None, on_c=None) -> Teacher:
    """Fit the TF-IDF vocabulary and weights on the training lines, the features scaled by
    `_nb_ratios` (unless not `nb`). C is chosen by log loss on `holdout_mask`'s rows after
    fitting the ratios and weights on the other rows; the teacher is then fitted on every
    training line with that C. The validation lines and labels, if given, are only scored
    afterwards: they choose nothing. `echo` gets a line after each C's fit; `on_c(c)` is
    called once C is known, before the last fit. A given `c` is used as it is: one fit, no
    search."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss

    y_train = np.asarray(y_train)
    train_lines = list(train_lines)  # read twice when min_df leaves nothing
    if len(np.unique(y_train)) < 2:
        raise DataFileError("the teacher needs positive and negative texts in the training "
                            "part (or train with --teacher none)")
    vectorizer, x_all = _vectorize(train_lines)
    held = holdout_mask(y_train, seed) if c is None else None
    given, c = c is not None, DEFAULT_C if c is None else c
    if held is not None:
        fit, out = ~held, held
        ratios = _nb_ratios(x_all[fit], y_train[fit]) if nb else np.ones(x_all.shape[1])
        started = time.perf_counter()

        def progress(i, c, loss):
            if echo:
                echo(f"Teacher: C {i}/{len(C_GRID)} ({c:g}): log loss {loss:.4f} on "
                     f"{int(out.sum()):,} held-out training texts "
                     f"({time.perf_counter() - started:.0f} s)")

        _, c = fit_logistic_regression(x_all[fit].multiply(ratios).tocsr(), y_train[fit],
                                       x_all[out].multiply(ratios).tocsr(), y_train[out],
                                       progress=progress)
    if on_c:
        on_c(c)
    ratios = _nb_ratios(x_all, y_train) if nb else np.ones(x_all.shape[1])
    model = LogisticRegression(C=c, max_iter=5000).fit(x_all.multiply(ratios).tocsr(), y_train)
    teacher = Teacher(vectorizer, ratios, model, c, 0 if held is None else int(held.sum()),
                      None, None, len(y_train))
    teacher.c_given = given
    if val_lines is not None:
        y_val = np.asarray(y_val)
        p = teacher.predict(val_lines)
        teacher.validation_accuracy = float(np.mean((p >= 0.5) == y_val))
        teacher.validation_log_loss = float(log_loss(y_val, p, labels=[0, 1]))
    return teacher
