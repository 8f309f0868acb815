"""Baselines beside the RNN: the same ids -> a simpler model -> probability.

    text -> tokens -> ids (the run's tokenizer and vocab.txt) -> majority class
                                                              -> bag of words -> logistic regression

Both learn from the part of the IMDB train split that trained the run (the first
1 - validation_fraction, through `train.prepare` with the run's config and vocabulary) and read
the ids the RNN reads (the last max_len tokens, OOV dropped or kept as the run did), so the
difference in the scores is what word order and the recurrent state add. The L2 strength is
chosen on the run's validation part; the data being evaluated is never used to choose anything.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .numpy_rnn import sigmoid
from .runs import Run

L2_GRID = (1e-5, 1e-4, 1e-3, 1e-2)  # L2 strengths tried, per example, on the mean log-loss
STEPS = 300  # full-batch Adam steps; the loss is convex, so from zero this is deterministic
LEARNING_RATE = 0.05

def multi_hot(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, id) of each distinct nonzero id in each row of a (batch, time) id array: the bag of
    words as a sparse 0/1 matrix, without building the dense (batch, vocab) one."""
    s = np.sort(np.asarray(ids), axis=1)
    first = np.ones(s.shape, dtype=bool)
    first[:, 1:] = s[:, 1:] != s[:, :-1]
    rows, cols = np.nonzero(first & (s != 0))  # padding (0) is no word
    return rows, s[rows, cols]


@dataclass
class LogisticRegression:
    """P(positive) = sigmoid(sum of w over the distinct words in the text + b)."""

    w: np.ndarray  # (vocab,), one weight per vocabulary id
    b: float
    l2: float

    def logits(self, ids: np.ndarray) -> np.ndarray:
        rows, cols = multi_hot(ids)
        return np.bincount(rows, weights=self.w[cols], minlength=len(ids)) + self.b

    def predict_proba(self, ids: np.ndarray) -> np.ndarray:
        return sigmoid(self.logits(ids))

    @classmethod
    def fit(cls, ids: np.ndarray, labels: np.ndarray, vocab_size: int, l2: float,
            steps: int = STEPS, learning_rate: float = LEARNING_RATE) -> LogisticRegression:
        """Minimise mean log-loss + l2/2 |w|^2 with full-batch Adam from zero."""
        rows, cols = multi_hot(ids)
        y = np.asarray(labels, dtype=np.float64)
        n = len(y)
        params = np.zeros(vocab_size + 1)  # w, then b
        m, v = np.zeros_like(params), np.zeros_like(params)
        for t in range(1, steps + 1):
            z = np.bincount(rows, weights=params[cols], minlength=n) + params[-1]
            err = (sigmoid(z) - y) / n  # d(mean loss)/dz, (n,)
            grad = np.append(np.bincount(cols, weights=err[rows], minlength=vocab_size)
                             + l2 * params[:-1], err.sum())
            m = 0.9 * m + 0.1 * grad
            v = 0.999 * v + 0.001 * grad ** 2
            params -= learning_rate * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
        return cls(params[:-1], float(params[-1]), l2)


def log_loss(labels: np.ndarray, probs: np.ndarray) -> float:
    p = np.clip(probs, 1e-7, 1 - 1e-7)
    return float(-np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p)))


def fit_logistic_regression(x_train, y_train, x_val, y_val, vocab_size: int,
                            grid=L2_GRID) -> LogisticRegression:
    """Fitted on the training part for each L2 strength; the lowest validation log-loss wins."""
    fits = [LogisticRegression.fit(x_train, y_train, vocab_size, l2) for l2 in grid]
    losses = [log_loss(y_val, f.predict_proba(x_val)) for f in fits]
    return fits[int(np.argmin(losses))]


@dataclass
class Baseline:
    name: str  # as shown in the table
    key: str  # as written to JSON
    probs: np.ndarray  # P(positive) for each evaluated text
    details: dict


def baselines(run: Run, ids: np.ndarray, data_dir=None) -> list[Baseline]:
    """The majority class and the bag-of-words logistic regression, scored on `ids`
    (batch, time), both trained on the run's training part of the IMDB train split."""
    from .train import prepare  # imports TensorFlow; only needed here

    _, (x_train, y_train), (x_val, y_val) = prepare(run.config, data_dir, run.vocab)
    share = float(np.mean(y_train))  # P(positive) in the training part
    majority = "positive" if share >= 0.5 else "negative"
    lr = fit_logistic_regression(x_train, y_train, x_val, y_val, run.config.vocab_size)
    return [
        Baseline(f"majority class ({majority})", "majority_class",
                 np.full(len(ids), share), {"class": majority, "train_positive_share": share}),
        Baseline(f"bag of words + logistic regression (L2 {lr.l2:g})", "logistic_regression",
                 lr.predict_proba(ids), {"l2": lr.l2, "l2_grid": list(L2_GRID),
                                         "train_reviews": int(len(y_train)),
                                         "chosen_on_validation_reviews": int(len(y_val))}),
    ]
