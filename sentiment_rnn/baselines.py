"""Baselines beside the RNN: the same texts -> simpler models -> probability (scikit-learn).

    text -> tokens -> ids (the run's tokenizer and vocab.txt) -> majority class
                                                              -> bag of words -> logistic regression
    text -> tokens (the run's tokenizer, every word) -> TF-IDF of words and word pairs
                                                     -> logistic regression

All learn from the part of the IMDB train split that trained the run (`prepare.py`, with the
run's config and vocabulary). The bag of words reads the ids the RNN reads (the last max_len
tokens, OOV dropped or kept as the run did), so the difference in the scores is what word order
and the recurrent state add. TF-IDF reads every word and word pair, a stronger reference that
the 1000-word RNN is not expected to reach. Each regularisation strength C is chosen by log loss
on the run's validation part; the data being evaluated is never used to choose anything.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .runs import Run

C_GRID = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)  # inverse L2 strengths (scikit-learn's C)
TFIDF_MIN_DF = 2  # a word or pair in fewer training reviews is left out of TF-IDF


def bag_of_words(ids: np.ndarray, vocab_size: int):
    """(batch, time) ids -> sparse (batch, vocab) 0/1 matrix of the distinct words; padding
    (id 0) is no word."""
    from scipy.sparse import csr_matrix

    ids = np.asarray(ids)
    rows = np.repeat(np.arange(len(ids)), ids.shape[1] if ids.ndim == 2 else 0)
    cols = ids.reshape(-1)
    keep = cols != 0
    m = csr_matrix((np.ones(int(keep.sum())), (rows[keep], cols[keep])),
                   shape=(len(ids), vocab_size))
    m.data[:] = 1.0  # duplicates were summed: one word, one 1
    return m


def fit_logistic_regression(x_train, y_train, x_val, y_val, grid=C_GRID):
    """scikit-learn's LogisticRegression (lbfgs, run to convergence) for each C; the lowest
    validation log loss wins. Returns (model, C)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss

    fits = [LogisticRegression(C=c, max_iter=5000).fit(x_train, y_train) for c in grid]
    losses = [log_loss(y_val, f.predict_proba(x_val)[:, 1], labels=[0, 1]) for f in fits]
    best = int(np.argmin(losses))
    return fits[best], grid[best]


@dataclass
class Baseline:
    name: str  # as shown in the table
    key: str  # as written to JSON
    probs: np.ndarray  # P(positive) for each evaluated text
    details: dict


def baselines(run: Run, texts: list[str], ids: np.ndarray, data_dir=None) -> list[Baseline]:
    """The majority class, the bag-of-words logistic regression on the run's vocabulary and a
    TF-IDF unigram+bigram logistic regression on all words, scored on `texts` (whose RNN ids
    are `ids`), all trained on the run's training part of the IMDB train split."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from .prepare import labelled_texts, prepare
    from .text import tokenize

    cfg = run.config
    _, (x_train, y_train), (x_val, y_val) = prepare(cfg, data_dir, run.vocab)
    share = float(np.mean(y_train))  # P(positive) in the training part
    majority = "positive" if share >= 0.5 else "negative"
    size = cfg.vocab_size
    bow, bow_c = fit_logistic_regression(bag_of_words(x_train, size), y_train,
                                         bag_of_words(x_val, size), y_val)
    (t_train, _), (t_val, _) = labelled_texts(cfg, data_dir)
    tfidf = TfidfVectorizer(tokenizer=tokenize, lowercase=False, token_pattern=None,
                            ngram_range=(1, 2), min_df=TFIDF_MIN_DF, sublinear_tf=True,
                            dtype=np.float64)
    words = tfidf.fit_transform(t_train)
    lr, lr_c = fit_logistic_regression(words, y_train, tfidf.transform(t_val), y_val)
    trained = {"train_reviews": int(len(y_train)), "chosen_on_validation_reviews": int(len(y_val)),
               "c_grid": list(C_GRID)}
    return [
        Baseline(f"majority class ({majority})", "majority_class",
                 np.full(len(texts), share), {"class": majority, "train_positive_share": share}),
        Baseline(f"bag of words, same {size - 2} words + logistic regression (C {bow_c:g})",
                 "logistic_regression", bow.predict_proba(bag_of_words(ids, size))[:, 1],
                 {"c": bow_c, **trained}),
        Baseline(f"TF-IDF, all words and pairs + logistic regression (C {lr_c:g})",
                 "tfidf_logistic_regression", lr.predict_proba(tfidf.transform(texts))[:, 1],
                 {"c": lr_c, "features": int(words.shape[1]), "min_df": TFIDF_MIN_DF,
                  "ngram_range": [1, 2], **trained}),
    ]
