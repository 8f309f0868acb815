"""Text -> probability with a saved run: the run's tokenizer, then the NumPy (or Keras) model.

The NumPy backend reads `weights.npz` and never imports TensorFlow; it is the default when that
file exists. The Keras backend (keras_backend.py) is imported only when asked for. Both backends compute the same probability (within 1e-5). A text with no word in
the vocabulary gets NaN, never a number: the model's prior says nothing about it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sentiment_rnn.errors import RunFolderError
from sentiment_rnn.nn.numpy_base import NumpyReadout
from sentiment_rnn.nn.numpy_cells import load_numpy
from sentiment_rnn.files.run_folder import Run, load_run
from sentiment_rnn.text.tokenizer import tokenize
from sentiment_rnn.text.vocabulary import OOV, encode, encode_tokens

BACKENDS = ("numpy", "keras")


def load_numpy_model(run: Run) -> NumpyReadout:
    """The run's weights.npz for the NumPy forward pass of its cell, checked against
    state.json."""
    data = run.read_verified(run.weights_file)
    return load_numpy(run.weights_file, run.config, data=data)


class Predictor:
    """A loaded run, ready to turn texts into probabilities."""

    def __init__(self, run_dir: str | Path, backend: str | None = None):
        self.run = load_run(run_dir)
        if backend is None:
            backend = "numpy" if self.run.weights_file.exists() else "keras"
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}")
        self.backend = backend
        self.run.verify_files(skip=self.run.weights_file.name if backend == "numpy" else
                              self.run.model_file.name)  # the one loaded is checked as read
        if backend == "numpy":
            self.model = load_numpy_model(self.run)
        else:  # the one door to TensorFlow on this path, opened only when asked
            from sentiment_rnn.prediction.keras_backend import load_keras_model

            self.model = load_keras_model(self.run)

    def ids(self, texts: Sequence[str]) -> np.ndarray:
        """Texts -> padded (batch, time) ids, as the model read them in training."""
        cfg = self.run.config
        return encode(texts, self.run.vocab, cfg.max_len, cfg.drop_oov)

    def ids_of_tokens(self, token_lists: Sequence[list[str]]) -> np.ndarray:
        """Already tokenized texts -> padded (batch, time) ids."""
        cfg = self.run.config
        return encode_tokens(token_lists, self.run.vocab, cfg.max_len, cfg.drop_oov)

    def predict_ids(self, ids: np.ndarray) -> np.ndarray:
        """P(positive) of each row of (batch, time) ids; a non-finite result is an error."""
        if self.backend == "numpy":
            probs = self.model.predict_proba(ids)
        else:
            from sentiment_rnn.prediction.keras_backend import predict_proba

            probs = predict_proba(self.model, ids)
        if not np.isfinite(probs).all():
            raise RunFolderError(f"{self.run.path}: the model gave a non-finite probability; "
                                 f"its weights are unusable")
        return probs

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """P(positive) for each text, NaN for a text with no word in the vocabulary (blank,
        only punctuation, or only unknown words): such a text reads as no input (h_T = 0), and
        the model's prior sigmoid(b_y) says nothing about it."""
        tokens = [tokenize(t) for t in texts]
        probs = np.full(len(texts), math.nan)
        ids = self.ids_of_tokens(tokens)
        keep = np.flatnonzero(reads_a_word(ids))
        if len(keep):
            probs[keep] = self.predict_ids(ids[keep])
        return probs

def reads_a_word(ids: np.ndarray) -> np.ndarray:
    """Per row of (batch, time) ids: whether the model reads at least one known word (not
    padding, not <oov>). A row without one is the model's prior, labelled unknown."""
    return ((ids != 0) & (ids != OOV)).any(axis=1)
