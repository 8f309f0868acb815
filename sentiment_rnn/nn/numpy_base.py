"""ids -> probability in NumPy: what every cell shares around its own loop.

Each cell (numpy_rnn's SimpleRNN, numpy_gru, numpy_lstm) writes its forward loop
(`hidden_states`) and its mirror, backpropagation through time (`gradients`); around them sit the
same steps for all: x_t = embedding[id_t] before the loop, logit = h_T W_hy + b_y and
P(positive) = sigmoid(logit) after it, and batches of similar length. Never imports TensorFlow.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sentiment_rnn.files.weights import load_weights, names, save_weights
from sentiment_rnn.nn.batching import lengths, sorted_batches, trim
from sentiment_rnn.nn.blas import ONE_THREAD_FROM, one_blas_thread


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # stable for large |z|


class NumpyReadout:
    """The parts of a NumPy network outside its recurrent loop. A subclass is a dataclass of
    the arrays `files.weights.names(CELL)` (embedding, the cell's matrices, W_hy, b_y) with
    `hidden_states(ids, x=None)` and `gradients(ids, x=None)`."""

    CELL = "simple"
    embedding: np.ndarray
    W_hy: np.ndarray
    b_y: np.ndarray

    @classmethod
    def load(cls, path: Path, vocab_size: int, embed_dim: int, units: int,
             data: bytes | None = None):
        """From a run's weights.npz, checked by files/weights.py (shapes, dtypes, finite)."""
        return cls(**load_weights(path, vocab_size, embed_dim, units, data, cls.CELL))

    @classmethod
    def save(cls, path: Path, arrays: dict) -> None:
        save_weights(path, arrays, cls.CELL)

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        """The weights by name, as weights.npz holds them."""
        return {name: getattr(self, name) for name in names(self.CELL)}

    @property
    def units(self) -> int:
        return self.W_hy.shape[0]

    def inputs(self, ids: np.ndarray, x: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """(batch, time) ids -> the ids as a 2-D array and x_t = embedding[id_t], (batch, time,
        embed_dim); `x` given replaces the looked-up vectors (integrated gradients scales them),
        while the ids still say which steps are padding (id 0, skipped as Keras' mask does)."""
        ids = np.atleast_2d(np.asarray(ids))
        return ids, self.embedding[ids] if x is None else np.asarray(x).reshape(*ids.shape, -1)

    def hidden_states(self, ids: np.ndarray, x: np.ndarray | None = None) -> np.ndarray:
        raise NotImplementedError

    def logit(self, ids: np.ndarray, x: np.ndarray | None = None) -> np.ndarray:
        """logit = h_T W_hy + b_y for each row of (batch, time) ids: what the gradients are of.
        `x`: as in `inputs`."""
        h_last = self.hidden_states(ids, x)[:, -1]
        return (h_last @ self.W_hy + self.b_y)[:, 0]

    def output(self, h: np.ndarray) -> np.ndarray:
        """P(positive) read from any hidden state(s): sigmoid(h W_hy + b_y), shape h.shape[:-1]."""
        return sigmoid(h @ self.W_hy + self.b_y)[..., 0]

    def predict_proba(self, ids: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """P(positive) = output(h_T) for each row of (batch, time) ids, as a (batch,) array.

        Rows of similar length are run together, and trimmed of the padding they all share;
        many rows run BLAS on one thread (blas.py says why)."""
        ids = np.atleast_2d(np.asarray(ids))
        out = np.empty(ids.shape[0])
        with one_blas_thread(ids.shape[0] >= ONE_THREAD_FROM):
            for rows in sorted_batches(lengths(ids), batch_size):
                out[rows] = self.output(self.hidden_states(trim(ids[rows]))[:, -1])
        return out
