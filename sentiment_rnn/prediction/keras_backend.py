"""The Keras backend of a saved run: model.keras -> a checked Keras model (TensorFlow imported).

Used by `predict --backend keras`, `evaluate --backend keras`, `inspect --check` and `seal`;
the NumPy path (predictor.py) never imports this module unless asked.
"""

from __future__ import annotations

import numpy as np

from sentiment_rnn.errors import RunFolderError
from sentiment_rnn.files.run_folder import Run
from sentiment_rnn.nn.keras_model import UnloadableModel, load_keras_bytes, predict_proba

__all__ = ["load_keras_model", "predict_proba"]
CELL_PATHS = {"simple": "simple_rnn_cell", "gru": "gru_cell", "lstm": "lstm_cell"}


def load_keras_model(run: Run):
    """The run's best Keras model, loaded with safe_mode on, checked against state.json and
    config.json. The bytes checked are the bytes loaded (from a private copy)."""
    data = run.read_verified(run.model_file)
    try:
        model = load_keras_bytes(data, compile=False)
    except UnloadableModel as exc:
        if exc.unsafe:
            raise RunFolderError(f"{run.path}: model.keras contains Python code (a lambda), "
                                 f"which safe_mode refuses to load") from None
        raise RunFolderError(f"{run.path}: model.keras cannot be loaded "
                             f"({exc.kind}: {exc.why})") from None
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
    cell = f"rnn/{CELL_PATHS[cfg.cell]}"  # the layer's class shows in the path
    gates = {"simple": 1, "gru": 3, "lstm": 4}[cfg.cell] * cfg.units  # gates side by side
    expected = {"embedding/embeddings": (cfg.vocab_size, cfg.embed_dim),
                f"{cell}/kernel": (cfg.embed_dim, gates),
                f"{cell}/recurrent_kernel": (cfg.units, gates),
                f"{cell}/bias": (2, gates) if cfg.cell == "gru" else (gates,),  # reset_after
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
