"""Baselines beside the RNN: the same texts -> simpler models -> probability (scikit-learn).

    text -> tokens -> ids (the run's tokenizer and vocab.txt) -> majority class
                                                              -> bag of words -> logistic regression
    text -> tokens (the run's tokenizer, every word) -> TF-IDF of words and word pairs
                                                     [-> naive-Bayes scaling] -> logistic regression

All learn from the part of the IMDB train split that trained the run (`prepare.py`, with the
run's config and vocabulary). The bag of words reads the ids the RNN reads (the last max_len
tokens, OOV dropped or kept as the run did), so the difference in the scores is what word order
and the recurrent state add. TF-IDF reads every word and word pair, plain and with NBSVM's
naive-Bayes scaling: the recipes of the teachers that label unlabelled reviews for the RNN
(teacher.py), stronger references. The bag of words' C is chosen by log loss on the run's
validation part; the TF-IDF models choose theirs as the teacher does (on a held-out fifth of the
training part, with the run's seed: the NB-weighted one is the run's teacher); the data being
evaluated is never used to choose anything.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sentiment_rnn.files.run_folder import Run
from sentiment_rnn.data.teacher import C_GRID, fit_logistic_regression, fit_teacher


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


@dataclass
class Baseline:
    name: str  # as shown in the table
    key: str  # as written to JSON
    probs: np.ndarray  # P(positive) for each evaluated text
    details: dict


def check_training_data(run: Run) -> None:
    """Refuse to train the baselines on a --data (or --validation-data) file that is not the
    one the run was trained on: config.json keeps its sha256."""
    from sentiment_rnn.errors import DataFileError
    from sentiment_rnn.files.atomic import read_json, sha256_file

    data = read_json(run.config_file).get("data")
    data = data if isinstance(data, dict) else {}
    validation = data.get("validation_file")
    for path, record in ((run.config.data, data),
                         (run.config.validation_data, validation if isinstance(validation, dict)
                          else {})):
        saved = record.get("sha256") if path not in (None, "-") else None
        if not isinstance(saved, str) or not saved:
            continue  # standard input, or a run that recorded none
        try:
            now = sha256_file(path)
        except OSError as exc:
            raise DataFileError(f"{path}: the run's training data cannot be read "
                                f"({exc.strerror or exc}); the baselines are trained on it") \
                from None
        if now != saved:
            raise DataFileError(f"{path}: changed since the run was trained on it (sha256 "
                                f"{saved[:12]} then, {now[:12]} now); the baselines would learn "
                                f"from other data: restore the file, or leave out --baselines")


def baselines(run: Run, texts: list[str], ids: np.ndarray, data_dir=None) -> list[Baseline]:
    """The majority class, the bag-of-words logistic regression on the run's vocabulary and a
    TF-IDF unigram+bigram logistic regression on all words, scored on `texts` (whose RNN ids
    are `ids`), all trained on the run's training part of the IMDB train split."""
    from sentiment_rnn.data.prepare import labelled_texts, prepare
    from sentiment_rnn.text.tokenizer import tokenize

    cfg = run.config
    check_training_data(run)
    _, (x_train, y_train), (x_val, y_val) = prepare(cfg, data_dir, run.vocab)
    share = float(np.mean(y_train))  # P(positive) in the training part
    majority = "positive" if share >= 0.5 else "negative"
    size = cfg.vocab_size
    bow, bow_c = fit_logistic_regression(bag_of_words(x_train, size), y_train,
                                         bag_of_words(x_val, size), y_val)
    (t_train, _), _ = labelled_texts(cfg, data_dir)

    def lines(texts):  # token lines, tokenized once for both TF-IDF models
        return [" ".join(tokenize(t)) for t in texts]

    train_lines, scored = lines(t_train), lines(texts)
    tfidf = fit_teacher(train_lines, y_train, nb=False, seed=cfg.seed)
    nb = fit_teacher(train_lines, y_train, seed=cfg.seed)  # the default teacher
    held = {"train_reviews": int(len(y_train)), "c_grid": list(C_GRID),
            "c_chosen_by": nb.describe()["c_chosen_by"]}
    trained = {"train_reviews": int(len(y_train)), "chosen_on_validation_reviews": int(len(y_val)),
               "c_grid": list(C_GRID)}
    return [
        Baseline(f"majority class ({majority})", "majority_class",
                 np.full(len(texts), share), {"class": majority, "train_positive_share": share}),
        Baseline(f"bag of words, same {size - 2} words + logistic regression (C {bow_c:g})",
                 "logistic_regression", bow.predict_proba(bag_of_words(ids, size))[:, 1],
                 {"c": bow_c, **trained}),
        Baseline(f"TF-IDF, all words and pairs + logistic regression (C {tfidf.c:g})",
                 "tfidf_logistic_regression", tfidf.predict(scored),
                 {"c": tfidf.c, "features": len(tfidf.vectorizer.vocabulary_),
                  "min_df": tfidf.describe()["min_df"], "ngram_range": [1, 2], **held}),
        Baseline(f"NB-weighted TF-IDF (the default teacher) + logistic regression "
                 f"(C {nb.c:g})", "nb_tfidf_logistic_regression", nb.predict(scored),
                 {"c": nb.c, "features": len(nb.vectorizer.vocabulary_),
                  "min_df": nb.describe()["min_df"], "ngram_range": [1, 2], **held}),
    ]
