"""`inspect --check`: the NumPy pass against the run's Keras model on the run's own data.

The largest |P_numpy - P_keras| over the first n texts of the run's data (its dataset's test
split, or the validation part of a user's file). Imports TensorFlow.
"""

from __future__ import annotations

import os

import numpy as np

from sentiment_rnn.files.run_folder import Run
from sentiment_rnn.nn.numpy_rnn import NumpyRNN
from sentiment_rnn.text.vocabulary import encode

TOLERANCE = 1e-5  # largest NumPy-vs-Keras difference in P(positive) the parity check accepts


def _parity_texts(run: Run, n: int, data_dir=None) -> tuple[list[str], str]:
    """The first n texts of the run's own data that the parity check reads, and what they are:
    the test split of the tfds dataset it was trained on, or the validation part of a user's
    file (split as training split it; the file is read again)."""
    cfg = run.config
    if cfg.data is None:
        from sentiment_rnn.data.imdb import DATASET, load_split

        texts, _ = load_split("test", data_dir, limit=n, dataset=cfg.dataset)
        name = "IMDB" if cfg.dataset == DATASET else cfg.dataset
        return texts, f"{name} test reviews"
    from sentiment_rnn.data.prepare import labelled_texts

    _, (texts, _) = labelled_texts(cfg, data_dir)
    where = cfg.validation_data or cfg.data
    return texts[:n], f"validation texts of {os.path.basename(where)}"


def parity(run: Run, model: NumpyRNN, n: int, data_dir=None) -> dict:
    """Largest |P_numpy - P_keras| over the first n texts of `_parity_texts`. Imports
    TensorFlow."""
    from sentiment_rnn.nn.keras_model import predict_proba
    from sentiment_rnn.prediction.keras_backend import load_keras_model

    texts, source = _parity_texts(run, n, data_dir)
    cfg = run.config
    ids = encode(texts, run.vocab, cfg.max_len, cfg.drop_oov)  # (reviews, time)
    diff = np.abs(model.predict_proba(ids) - predict_proba(load_keras_model(run), ids))
    worst = float(np.max(diff)) if len(diff) else 0.0
    return {"reviews": len(texts), "source": source, "max_abs_diff": worst,
            "tolerance": TOLERANCE, "ok": bool(worst <= TOLERANCE)}  # NaN is not ok
