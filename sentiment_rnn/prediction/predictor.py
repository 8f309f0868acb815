"""Text -> probability with a saved run: the run's tokenizer, then the Keras or NumPy model.

The NumPy backend reads `weights.npz` and never imports TensorFlow; it is the default when that
file exists. Both backends compute the same probability (within 1e-5). A text with no word in
the vocabulary gets NaN, never a number: the model's prior says nothing about it.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sentiment_rnn.errors import RunFolderError
from sentiment_rnn.nn.numpy_rnn import NumpyRNN
from sentiment_rnn.files.run_folder import Run, load_run
from sentiment_rnn.text.vocabulary import OOV, encode, encode_tokens, tokenize

BACKENDS = ("numpy", "keras")
UNKNOWN = "unknown"  # the label of a text with no known word; it gets no probability


def load_numpy_model(run: Run) -> NumpyRNN:
    """The run's weights.npz for the NumPy forward pass, checked against state.json."""
    cfg = run.config
    data = run.read_verified(run.weights_file)
    return NumpyRNN.load(run.weights_file, cfg.vocab_size, cfg.embed_dim, cfg.units, data=data)


def load_keras_model(run: Run):
    """The run's best Keras model, loaded with safe_mode on, checked against state.json and
    config.json. The bytes checked are the bytes loaded (from a private copy)."""
    from sentiment_rnn import _tf

    tf = _tf.tensorflow()
    data = run.read_verified(run.model_file)
    tmp = ""
    try:
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "model.keras"
            copy.write_bytes(data)
            model = tf.keras.models.load_model(copy, compile=False, safe_mode=True)
    except Exception as exc:  # truncated zip, wrong layers, unsafe lambda, ...
        if "safe_mode" in str(exc):
            raise RunFolderError(f"{run.path}: model.keras contains Python code (a lambda), "
                                 f"which safe_mode refuses to load") from None
        why = str(exc).splitlines()[0][:200] if str(exc) else ""
        raise RunFolderError(f"{run.path}: model.keras cannot be loaded "
                             f"({type(exc).__name__}: {why.replace(tmp, '')})") from None
    _check_architecture(run, model)
    return model


def _check_architecture(run: Run, model) -> None:
    """The loaded model is this run's: the three layers by name, with the run's shapes, and
    finite weights."""
    cfg = run.config
    try:
        layers = {name: model.get_layer(name) for name in ("embedding", "rnn", "output")}
    except ValueError as exc:
        raise RunFolderError(f"{run.path}: model.keras is not this run's model "
                             f"({str(exc)[:120]})") from None
    if layers["embedding"].input_dim != cfg.vocab_size:
        raise RunFolderError(f"{run.path}: model.keras embeds {layers['embedding'].input_dim} "
                             f"words but the vocabulary has {cfg.vocab_size}")
    found = {w.path: tuple(w.shape) for w in model.weights}
    expected = {"embedding/embeddings": (cfg.vocab_size, cfg.embed_dim),
                "rnn/simple_rnn_cell/kernel": (cfg.embed_dim, cfg.units),
                "rnn/simple_rnn_cell/recurrent_kernel": (cfg.units, cfg.units),
                "rnn/simple_rnn_cell/bias": (cfg.units,),
                "output/kernel": (cfg.units, 1), "output/bias": (1,)}
    if found != expected:
        raise RunFolderError(f"{run.path}: model.keras is not this run's model (its weights "
                             f"are {_shapes(found)}, config.json says {_shapes(expected)})")
    for w in model.weights:
        if not np.isfinite(np.asarray(w)).all():
            raise RunFolderError(f"{run.path}: model.keras holds non-finite weights "
                                 f"(NaN or infinity in {w.path})")


def _shapes(weights: dict) -> str:
    text = ", ".join(f"{k.split('/')[-1]} {v}" for k, v in weights.items())
    return text[:160]


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
        """P(positive) of each row of (batch, time) ids; a non-finite result is an error."""
        if self.backend == "numpy":
            probs = self.model.predict_proba(ids)
        else:
            from sentiment_rnn.nn.keras_model import predict_proba

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


THRESHOLD = 0.5  # P(positive) >= THRESHOLD is positive, everywhere (training, evaluate, predict)


def is_positive(probability, threshold: float = THRESHOLD):
    """The one threshold rule: P >= threshold is positive. Works on a float, a NumPy array
    and a TensorFlow tensor alike."""
    return probability >= threshold


def label(probability: float, threshold: float = THRESHOLD) -> str:
    return "positive" if is_positive(probability, threshold) else "negative"
