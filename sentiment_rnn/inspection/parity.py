"""`inspect --check`: the NumPy pass against the run's Keras model on the run's own data.

The largest |P_numpy - P_keras| over the first n validation texts of the run's data (the
validation part of its training data, split as training split it: validation.py). Imports
TensorFlow.
"""

from __future__ import annotations

import numpy as np

from sentiment_rnn.files.run_folder import Run
from sentiment_rnn.nn.numpy_base import NumpyReadout
from sentiment_rnn.text.vocabulary import encode

TOLERANCE = 1e-5  # largest NumPy-vs-Keras difference in P(positive) the parity check accepts


def _parity_texts(run: Run, n: int, data_dir=None) -> tuple[list[str], str]:
    """The first n validation texts of the run that the parity check reads, and what they are:
    the validation part of its training data, split as training split it (validation.py; the
    data is read again), never the test split."""
    from sentiment_rnn.inspection.validation import validation_reviews

    texts, _, source = validation_reviews(run, n, data_dir)
    return texts, source


def parity(run: Run, model: NumpyReadout, n: int, data_dir=None) -> dict:
    """Over the first n texts of `_parity_texts`: the largest |P_numpy - P_keras|, and the
    largest relative difference of the backward pass's d logit / d x_t from GradientTape's.
    Imports TensorFlow."""
    from sentiment_rnn.nn.keras_model import predict_proba
    from sentiment_rnn.prediction.keras_backend import load_keras_model

    texts, source = _parity_texts(run, n, data_dir)
    cfg = run.config
    ids = encode(texts, run.vocab, cfg.max_len, cfg.drop_oov)  # (reviews, time)
    keras_model = load_keras_model(run)
    diff = np.abs(model.predict_proba(ids) - predict_proba(keras_model, ids))
    worst = float(np.max(diff)) if len(diff) else 0.0
    gradient = gradient_difference(model, keras_model, ids)
    return {"reviews": len(texts), "source": source, "max_abs_diff": worst,
            "gradient_max_rel_diff": gradient, "tolerance": TOLERANCE,
            "ok": bool(worst <= TOLERANCE and gradient <= TOLERANCE)}  # NaN is not ok


def gradient_difference(model: NumpyReadout, keras_model, ids: np.ndarray,
                        batch_size: int = 256) -> float:
    """The largest, over reviews, of max |d_numpy - d_tape| / max |d_tape| for d logit / d x_t
    (a review with no word read has no gradient and is passed over). The Keras side runs the
    run's own layers and weights in float64 (`float64_twin`), so the digits compared are the
    two algorithms', not float32's rounding."""
    from sentiment_rnn.nn.keras_tape import float64_twin, logit_gradients

    keras_model = float64_twin(keras_model)
    ratios = [np.zeros(1)]
    for start in range(0, len(ids), batch_size):
        rows = ids[start:start + batch_size]
        got, _ = model.gradients(rows)
        expected = logit_gradients(keras_model, rows)
        scale = np.abs(expected).max(axis=(1, 2))
        error = np.abs(got - expected).max(axis=(1, 2))
        ratios.append(error[scale > 0] / scale[scale > 0])
    return float(np.max(np.concatenate(ratios)))  # a NaN gradient gives NaN: never ok
