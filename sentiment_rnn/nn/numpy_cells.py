"""Which NumPy network a run holds: its configuration's cell -> NumpyRNN, NumpyGRU or NumpyLSTM.

The one place that maps `TrainConfig.cell` to a NumPy class; every caller (predict, inspect,
serve, seal, the notebook) loads a run's weights.npz through `load_numpy`. Never imports
TensorFlow.
"""

from __future__ import annotations

from pathlib import Path

from sentiment_rnn.config import TrainConfig
from sentiment_rnn.nn.numpy_base import NumpyReadout
from sentiment_rnn.nn.numpy_gru import NumpyGRU
from sentiment_rnn.nn.numpy_lstm import NumpyLSTM
from sentiment_rnn.nn.numpy_rnn import NumpyRNN

CLASSES = {"simple": NumpyRNN, "gru": NumpyGRU, "lstm": NumpyLSTM}


def numpy_class(cell: str) -> type[NumpyReadout]:
    return CLASSES[cell]


def load_numpy(path: Path, config: TrainConfig, data: bytes | None = None) -> NumpyReadout:
    """A run's weights.npz (or its bytes already read) as the NumPy network of its cell."""
    return CLASSES[config.cell].load(path, config.vocab_size, config.embed_dim, config.units,
                                     data)


def from_arrays(cell: str, arrays: dict) -> NumpyReadout:
    """The NumPy network of a cell from its arrays by name (as keras_model.weight_arrays)."""
    return CLASSES[cell](**arrays)
