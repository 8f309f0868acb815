"""Text -> probability with a saved run: the run's tokenizer, then the Keras or NumPy model.

The NumPy backend reads `weights.npz` and never imports TensorFlow; it is the default when that
file exists. Both backends compute the same probability (within 1e-5).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .errors import InputTextError, RunFolderError
from .numpy_rnn import NumpyRNN
from .runs import Run, load_run
from .text import OOV, encode, encode_tokens, tokenize

BACKENDS = ("numpy", "keras")


def load_keras_model(run: Run):
    """The run's best Keras model, loaded with safe_mode on, checked against config.json."""
    from . import quiet

    tf = quiet.tensorflow()
    try:
        model = tf.keras.models.load_model(run.verified(run.model_file), compile=False,
                                           safe_mode=True)
    except Exception as exc:  # truncated zip, wrong layers, unsafe lambda, ...
        if "safe_mode" in str(exc):
            raise RunFolderError(f"{run.path}: model.keras contains Python code (a lambda), "
                                 f"which safe_mode refuses to load") from None
        raise RunFolderError(f"{run.path}: model.keras cannot be loaded "
                             f"({type(exc).__name__}: {str(exc).splitlines()[0][:200]})") from None
    try:
        vocab_rows = model.get_layer("embedding").input_dim
    except ValueError:
        raise RunFolderError(f"{run.path}: model.keras has no layer named embedding") from None
    if vocab_rows != run.config.vocab_size:
        raise RunFolderError(f"{run.path}: model.keras embeds {vocab_rows} words but the "
                             f"vocabulary has {run.config.vocab_size}")
    return model


class Predictor:
    """A loaded run, ready to turn texts into probabilities."""

    def __init__(self, run_dir: str | Path, backend: str | None = None):
        self.run = load_run(run_dir)
        self.run.verify_files()
        if backend is None:
            backend = "numpy" if self.run.weights_file.exists() else "keras"
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}")
        self.backend = backend
        cfg = self.run.config
        if backend == "numpy":
            self.model = NumpyRNN.load(self.run.weights_file, cfg.vocab_size, cfg.embed_dim,
                                       cfg.units)  # already checked by verify_files
        else:
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
        if self.backend == "numpy":
            return self.model.predict_proba(ids)
        from .model import predict_proba

        return predict_proba(self.model, ids)

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """P(positive) for each text. Texts with no words at all are refused.

        A text whose words are all out of vocabulary reads as no input (h_T = 0): its
        probability is the model's prior, sigmoid(b_y); `known_words` tells these apart.
        """
        for i, text in enumerate(texts, 1):
            if not tokenize(text):
                raise InputTextError(f"text {i} has no words to classify")
        return self.predict_ids(self.ids(texts)) if len(texts) else np.empty(0)

    def known_words(self, text: str) -> int:
        """How many of the text's tokens are in the vocabulary."""
        return sum(1 for i in self.run.vocab.lookup(tokenize(text)) if i != OOV)


def label(probability: float, threshold: float = 0.5) -> str:
    return "positive" if probability >= threshold else "negative"
