"""ids -> probability in NumPy alone: the seed notebook's loop on the trained weights, and back.

    forward   h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h)     x_t = embedding[id_t], h_0 = 0
              logit = h_T W_hy + b_y                         P(positive) = sigmoid(logit)
    backward  g_T = d logit / d h_T = W_hy
              a_t = x_t W_xh + h_{t-1} W_hh + b_h, so d logit / d a_t = g_t * (1 - h_t^2)
              d logit / d x_t = (d logit / d a_t) W_xh^T    g_{t-1} = (d logit / d a_t) W_hh^T

Padding (id 0) is skipped, as Keras' mask does: h_t = h_{t-1} at a padded step. Vectorized over
a batch; can return every hidden state h_t. Never imports TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sentiment_rnn.files.weights import NAMES, load_weights, save_weights
from sentiment_rnn.nn.batching import lengths, sorted_batches, trim
from sentiment_rnn.nn.blas import ONE_THREAD_FROM, one_blas_thread

__all__ = ["NAMES", "NumpyRNN", "sigmoid"]


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # stable for large |z|


@dataclass
class NumpyRNN:
    """The trained network as six NumPy arrays (files/weights.py reads them), and its forward
    pass. The names are the seed notebook's; keras_model.weight_arrays maps Keras' onto them."""

    embedding: np.ndarray  # (vocab, embed_dim)
    W_xh: np.ndarray  # (embed_dim, units)
    W_hh: np.ndarray  # (units, units)
    b_h: np.ndarray  # (units,)
    W_hy: np.ndarray  # (units, 1)
    b_y: np.ndarray  # (1,)

    @classmethod
    def load(cls, path: Path, vocab_size: int, embed_dim: int, units: int,
             data: bytes | None = None) -> NumpyRNN:
        """From a run's weights.npz, checked by files/weights.py (shapes, dtypes, finite)."""
        return cls(**load_weights(path, vocab_size, embed_dim, units, data))

    @staticmethod
    def save(path: Path, arrays: dict) -> None:
        save_weights(path, arrays)

    def hidden_states(self, ids: np.ndarray) -> np.ndarray:
        """Every hidden state: (batch, time) ids -> (batch, time, units) h_t.

        The seed notebook's loop, for a whole batch at once. x_t W_xh + b_h does not depend on
        h, so it is computed for every step before the loop; the loop adds h_{t-1} W_hh."""
        ids = np.atleast_2d(np.asarray(ids))
        batch, steps = ids.shape
        units = self.W_hh.shape[0]
        with np.errstate(all="ignore"):  # callers check that the result is finite
            x_part = self.embedding[ids] @ self.W_xh + self.b_h  # (batch, time, units)
            h = np.zeros((batch, units))  # h_0 = 0
            states = np.empty((batch, steps, units))
            for t in range(steps):
                h_t = np.tanh(x_part[:, t] + h @ self.W_hh)
                reads = (ids[:, t] != 0)[:, None]  # padding (id 0) is skipped: h_t = h_{t-1}
                h = np.where(reads, h_t, h)
                states[:, t] = h
        return states

    def gradients(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Backpropagation through time: the forward loop's mirror, from the output back to the
        first word. (batch, time) ids -> d logit / d x_t, (batch, time, embed_dim), and
        d logit / d h_t, (batch, time, units), for every step; zero for x_t at padding, where
        h_t = h_{t-1} passes the gradient back unchanged."""
        ids = np.atleast_2d(np.asarray(ids))
        states = self.hidden_states(ids)  # h_1 .. h_T
        batch, steps, units = states.shape
        d_x = np.zeros((batch, steps, self.W_xh.shape[0]))
        d_h = np.zeros((batch, steps, units))
        g = np.repeat(self.W_hy[:, 0][None], batch, axis=0)  # d logit / d h_T
        with np.errstate(all="ignore"):  # callers check that the result is finite
            for t in reversed(range(steps)):
                d_h[:, t] = g
                reads = (ids[:, t] != 0)[:, None]
                d_a = g * (1.0 - states[:, t] ** 2)  # back through tanh
                d_x[:, t] = np.where(reads, d_a @ self.W_xh.T, 0.0)
                g = np.where(reads, d_a @ self.W_hh.T, g)  # to h_{t-1}
        return d_x, d_h

    def logit(self, ids: np.ndarray) -> np.ndarray:
        """logit = h_T W_hy + b_y for each row of (batch, time) ids: what the gradients are of."""
        h_last = self.hidden_states(ids)[:, -1]
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
